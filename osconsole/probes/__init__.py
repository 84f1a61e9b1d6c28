"""Optional probes of what lies beneath OpenStack: RabbitMQ, MySQL/Galera, memcached."""
