"""config.yaml: defaults, lookup order, floors, and one clear message per bad file."""

from __future__ import annotations

from pathlib import Path

import pytest

from osconsole.config import (
    INTERVAL_FLOORS,
    ConfigError,
    Settings,
    find_config,
    load_settings,
    parse_settings,
)
from osconsole.model import Kind

REPO = Path(__file__).resolve().parents[1]


def test_the_example_config_is_valid_and_documents_every_setting() -> None:
    text = (REPO / "config.example.yaml").read_text()
    settings = parse_settings(text, "config.example.yaml")
    assert settings.clouds[0].name == "osconsole-sim"
    for name in Settings.model_fields:
        assert f"{name}:" in text, f"config.example.yaml does not document {name}"


def test_an_empty_file_gives_the_defaults() -> None:
    assert parse_settings("", "x.yaml") == Settings()


@pytest.mark.parametrize(
    ("text", "key", "why"),
    [
        ("intervals: {routers: fast}", "intervals.routers", "valid number"),
        ("bogus: 1", "bogus", "unknown setting"),
        ("concurrency: 0", "concurrency", "greater than or equal to 1"),
        ("clouds: [{name: a}, {name: a}]", "clouds", "cloud listed twice: a"),
        ("theme: pink", "theme", "'dark'"),
        ("clouds: [{regions: [R1]}]", "clouds.0.name", "Field required"),
        ("- just\n- a list", "", "mapping of settings"),
    ],
)
def test_bad_settings_name_the_file_the_key_and_the_reason(text: str, key: str, why: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, "/etc/osconsole.yaml")
    assert caught.value.source == "/etc/osconsole.yaml"
    assert caught.value.key == key
    assert why in caught.value.why
    assert str(caught.value).startswith("/etc/osconsole.yaml: ")


def test_broken_yaml_says_where() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings("intervals:\n  routers: [1,\n", "c.yaml")
    assert "line" in caught.value.key
    assert "not valid YAML" in caught.value.why


def test_intervals_below_their_floor_are_raised_to_it_and_said() -> None:
    settings = parse_settings("intervals: {routers: 1, agents: 7}", "c.yaml")
    assert settings.intervals.of(Kind.ROUTERS) == INTERVAL_FLOORS[Kind.ROUTERS]
    assert settings.intervals.of(Kind.AGENTS) == 7
    (warning,) = settings.floor_warnings()
    assert warning.startswith("intervals.routers: 1s is below the floor of 10s")


def test_lookup_order_flag_then_env_then_xdg(tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    (xdg / "osconsole").mkdir(parents=True)
    (xdg / "osconsole" / "config.yaml").write_text("concurrency: 3\n")
    env_file = tmp_path / "env.yaml"
    env_file.write_text("concurrency: 4\n")
    flag_file = tmp_path / "flag.yaml"
    flag_file.write_text("concurrency: 5\n")
    env = {"XDG_CONFIG_HOME": str(xdg)}
    assert load_settings(None, env).concurrency == 3
    env["OSCONSOLE_CONFIG"] = str(env_file)
    assert load_settings(None, env).concurrency == 4
    assert load_settings(str(flag_file), env).concurrency == 5
    assert find_config(None, {"XDG_CONFIG_HOME": str(tmp_path / "none")}) is None


def test_a_missing_explicit_file_is_an_error_not_the_defaults(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_settings(str(tmp_path / "missing.yaml"), {})


@pytest.mark.parametrize(
    ("text", "key", "why"),
    [
        ("sweep_budget: .nan", "sweep_budget", "finite number"),
        ("request_timeout: .inf", "request_timeout", "finite number"),
        ("intervals: {agents: -1}", "intervals.agents", "greater than 0"),
        ("intervals: {routers: .nan}", "intervals.routers", "finite number"),
        ("intervals: {tenants: 1e9}", "intervals.tenants", "less than or equal to 86400"),
        ("thresholds: {overcommit_ratio: .inf}", "thresholds.overcommit_ratio", "finite"),
        ("thresholds: {heartbeat_warning_s: .nan}", "thresholds.heartbeat_warning_s", "finite"),
        ("concurrency: yes", "concurrency", "a number is needed, not true/false"),
        ("sweep_budget: true", "sweep_budget", "a number is needed, not true/false"),
    ],
)
def test_every_number_must_be_finite_and_in_range(text: str, key: str, why: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, "c.yaml")
    assert caught.value.key == key
    assert why in caught.value.why


def test_every_problem_of_a_file_is_reported_at_once() -> None:
    text = "concurrency: 0\nsweep_budget: -1\nintervals: {routers: .nan}\nbogus: 1\n"
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, "c.yaml")
    keys = [key for key, _ in caught.value.problems]
    assert sorted(keys) == ["bogus", "concurrency", "intervals.routers", "sweep_budget"]
    lines = str(caught.value).splitlines()
    assert len(lines) == 4 and all(line.startswith("c.yaml: ") for line in lines)
    assert "more problem" not in str(caught.value)


def test_overrides_from_the_command_line_are_checked_as_the_file_is() -> None:
    from osconsole.config import check_setting, with_overrides

    assert with_overrides(Settings(), sweep_budget=5).sweep_budget == 5
    with pytest.raises(ConfigError, match="sweep_budget: Input should be greater than 0"):
        with_overrides(Settings(), sweep_budget=-1)
    assert check_setting("sweep_budget", "2.5", "--sweep-budget") == 2.5
    with pytest.raises(ConfigError, match=r"^--sweep-budget: Input should be a finite number$"):
        check_setting("sweep_budget", "nan", "--sweep-budget")
