"""Configuration is checked when it is read: a wrong value stops start-up with one line naming the
variable, the value and what is allowed, and reading the settings creates nothing on disk."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitorlink.core.config import ConfigError, load_settings, require_lake

#: (variable, the Settings field it sets, the allowed range as the message writes it).
INTEGERS = [
    ("MONITORLINK_BROKER_PORT", "broker_port", 1, 65535),
    ("MONITORLINK_TOPIC_PARTITIONS", "topic_partitions", 1, 1000),
    ("MONITORLINK_SESSION_TIMEOUT_MS", "session_timeout_ms", 1000, 300000),
    ("MONITORLINK_BATCH_MAX_RECORDS", "batch_max_records", 1, 1000000),
    ("MONITORLINK_DELIVERY_CHUNK", "delivery_chunk", 1, 10000),
    ("MONITORLINK_HTTP_RETRIES", "http_retries", 0, 20),
    ("MONITORLINK_SUPERSET_PORT", "superset_port", 1, 65535),
    ("MONITORLINK_AIRFLOW_PORT", "airflow_port", 1, 65535),
]
#: (variable, field, exclusive lower bound, inclusive upper bound).
FLOATS = [
    ("MONITORLINK_WAIT_NORM_MONTHS", "wait_norm_months", 0, 60),
    ("MONITORLINK_HTTP_TIMEOUT_S", "http_timeout_s", 0, 3600),
    ("MONITORLINK_WATCH_INTERVAL_S", "watch_interval_s", 0, 86400),
]
SOURCES = ("availability", "tmsd", "chain", "education", "cbs")
NOTIFIERS = ("log", "kafka", "webhook")


@pytest.fixture(autouse=True)
def clean_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No MONITORLINK_* variable from the caller's shell, and a home of this test's own."""
    for name in list(os.environ):
        if name.startswith("MONITORLINK_") or name == "AIRFLOW_HOME":
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    monkeypatch.setenv("MONITORLINK_HOME", str(home))
    yield home


def _refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> str:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    message = str(raised.value)
    assert "\n" not in message
    return message


def _every_file(root: Path) -> list[Path]:
    return sorted(root.rglob("*"))


# numbers ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "field", "low", "high"), INTEGERS)
@pytest.mark.parametrize("value", ["abc", "1.5", "12x", "-"])
def test_a_whole_number_variable_refuses_what_is_no_whole_number(
    name: str, field: str, low: int, high: int, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = _refused(monkeypatch, name, value)
    assert message.startswith(f"{name}={value!r} is not a whole number")
    assert f"allowed: {low}–{high}" in message


@pytest.mark.parametrize(("name", "field", "low", "high"), INTEGERS)
@pytest.mark.parametrize("offset", ["below", "above"])
def test_a_whole_number_variable_refuses_a_value_out_of_range(
    name: str, field: str, low: int, high: int, offset: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    value = str(low - 1 if offset == "below" else high + 1)
    message = _refused(monkeypatch, name, value)
    assert message == f"{name}={value} is out of range (allowed: {low}–{high})"


@pytest.mark.parametrize(("name", "field", "low", "high"), INTEGERS)
def test_a_whole_number_variable_takes_both_ends_of_its_range(
    name: str, field: str, low: int, high: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    for value in (low, high):
        monkeypatch.setenv(name, f" {value} ")
        assert getattr(load_settings(), field) == value


@pytest.mark.parametrize(("name", "field", "above", "high"), FLOATS)
@pytest.mark.parametrize("value", ["soon", "4 months", "1,5"])
def test_a_number_variable_refuses_what_is_no_number(
    name: str, field: str, above: int, high: int, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = _refused(monkeypatch, name, value)
    assert message.startswith(f"{name}={value!r} is not a number")
    assert f"allowed: >{above}–{high}" in message


@pytest.mark.parametrize(("name", "field", "above", "high"), FLOATS)
@pytest.mark.parametrize("kind", ["zero", "negative", "too_high", "nan", "inf"])
def test_a_number_variable_refuses_a_value_out_of_range(
    name: str, field: str, above: int, high: int, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    value = {"zero": str(above), "negative": "-1", "too_high": f"{high}.5", "nan": "nan", "inf": "inf"}[kind]
    message = _refused(monkeypatch, name, value)
    assert message == f"{name}={value} is out of range (allowed: >{above}–{high})"


@pytest.mark.parametrize(("name", "field", "above", "high"), FLOATS)
def test_a_number_variable_takes_fractions_and_its_upper_end(
    name: str, field: str, above: int, high: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    for value in ("0.5", str(high)):
        monkeypatch.setenv(name, value)
        assert getattr(load_settings(), field) == float(value)


@pytest.mark.parametrize("value", ["ten", "1.5"])
def test_a_suppression_threshold_that_is_no_number_names_the_variable_and_the_range(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = _refused(monkeypatch, "MONITORLINK_SUPPRESSION_THRESHOLD", value)
    assert message.startswith(f"MONITORLINK_SUPPRESSION_THRESHOLD must be a whole number, not {value!r}")
    assert "allowed: 2 or more" in message


@pytest.mark.parametrize("value", ["1", "0", "-5"])
def test_a_suppression_threshold_below_two_is_a_config_error(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = _refused(monkeypatch, "MONITORLINK_SUPPRESSION_THRESHOLD", value)
    assert message.startswith(f"MONITORLINK_SUPPRESSION_THRESHOLD={value} would switch disclosure")
    assert "2 or more" in message


def test_an_empty_number_variable_means_its_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITORLINK_BROKER_PORT", "  ")
    assert load_settings().broker_port == 19092


# names --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["log,pager", "Log", "kafka, email"])
def test_an_unknown_notifier_names_the_variable_and_the_notifiers(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = next(item.strip() for item in value.split(",") if item.strip() not in NOTIFIERS)
    message = _refused(monkeypatch, "MONITORLINK_ALERT_NOTIFIERS", value)
    assert message.startswith(f"MONITORLINK_ALERT_NOTIFIERS: unknown notifier {bad!r}")
    assert f"allowed: {', '.join(NOTIFIERS)}" in message


def test_the_known_notifiers_are_taken_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITORLINK_ALERT_NOTIFIERS", " webhook , log,log ")
    assert load_settings().alert_notifiers == ("webhook", "log")


def test_no_skip_sources_by_default() -> None:
    assert load_settings().skip_sources == ()


def test_skip_sources_are_read_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITORLINK_SKIP_SOURCES", "cbs, education,")
    assert load_settings().skip_sources == ("cbs", "education")


@pytest.mark.parametrize("typo", ["tmds", "CBS", "availabilty"])
def test_a_misspelt_skip_source_lists_the_valid_names(typo: str, monkeypatch: pytest.MonkeyPatch) -> None:
    message = _refused(monkeypatch, "MONITORLINK_SKIP_SOURCES", f"chain,{typo}")
    assert message.startswith(f"MONITORLINK_SKIP_SOURCES: unknown source {typo!r}")
    assert f"allowed: {', '.join(SOURCES)}" in message


# CBS tables ---------------------------------------------------------------------------------------------


def test_unset_cbs_tables_mean_the_default_tables() -> None:
    assert load_settings().cbs_tables == (("03759ned", "v3"), ("85098NED", "v4"))


@pytest.mark.parametrize("value", ["", "   ", " , "])
def test_cbs_tables_set_to_nothing_switch_cbs_off(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITORLINK_CBS_TABLES", value)
    assert load_settings().cbs_tables == ()


def test_cbs_tables_are_read_with_their_api(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITORLINK_CBS_TABLES", " 12345ned:v4 ,67890NED:v3")
    assert load_settings().cbs_tables == (("12345ned", "v4"), ("67890NED", "v3"))


@pytest.mark.parametrize(
    ("value", "wrong"), [("03759ned", "03759ned"), ("a:v3,b:v5", "b:v5"), (":v3", ":v3")]
)
def test_a_cbs_table_without_a_table_id_or_api_is_refused(
    value: str, wrong: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = _refused(monkeypatch, "MONITORLINK_CBS_TABLES", value)
    assert message.startswith(f"MONITORLINK_CBS_TABLES: {wrong!r} needs")


# nothing on disk ----------------------------------------------------------------------------------------


def test_reading_the_settings_creates_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "nowhere" / "home"
    monkeypatch.setenv("MONITORLINK_HOME", str(home))
    before = _every_file(tmp_path)
    settings = load_settings()
    assert settings.home == home
    assert settings.lake_root == home / "lake"
    assert _every_file(tmp_path) == before
    assert not (tmp_path / "nowhere").exists()


def test_without_a_lake_require_lake_says_where_it_looked_and_creates_nothing(
    tmp_path: Path, clean_environment: Path
) -> None:
    clean_environment.mkdir()
    before = _every_file(tmp_path)
    with pytest.raises(ConfigError) as raised:
        require_lake(load_settings())
    assert str(raised.value) == (
        f"no lake at {clean_environment / 'lake'} (MONITORLINK_HOME={clean_environment}): run `make run`"
        " first, or point MONITORLINK_HOME, MONITORLINK_LAKE_ROOT or MONITORLINK_LAKE_URI at an existing"
        " platform"
    )
    assert _every_file(tmp_path) == before


def test_require_lake_on_a_missing_home_creates_nothing(tmp_path: Path, clean_environment: Path) -> None:
    with pytest.raises(ConfigError, match=r"^no lake at "):
        require_lake(load_settings())
    assert _every_file(tmp_path) == []


def test_a_file_where_the_lake_should_be_is_no_lake(tmp_path: Path, clean_environment: Path) -> None:
    clean_environment.mkdir()
    (clean_environment / "lake").write_text("not a folder")
    with pytest.raises(ConfigError, match=r"^no lake at "):
        require_lake(load_settings())


def test_require_lake_passes_with_a_lake(clean_environment: Path) -> None:
    (clean_environment / "lake").mkdir(parents=True)
    require_lake(load_settings())


def test_require_lake_follows_the_lake_root_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lake = tmp_path / "elsewhere"
    lake.mkdir()
    monkeypatch.setenv("MONITORLINK_LAKE_ROOT", str(lake))
    require_lake(load_settings())


@pytest.mark.parametrize(
    ("value", "on"), [("1", True), ("yes", True), ("ON", True), ("", False), ("0", False)]
)
def test_the_dev_mode_flag_takes_the_usual_spellings(
    value: str, on: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONITORLINK_DEV_MODE", value)
    assert load_settings().dev_mode is on


def test_a_dev_mode_that_is_no_flag_is_refused_not_taken_as_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITORLINK_DEV_MODE", "ja")
    with pytest.raises(ConfigError, match=r"^MONITORLINK_DEV_MODE='ja' is not a flag \(allowed: 1, true"):
        load_settings()


def test_a_lake_on_object_storage_needs_a_prefix_and_says_how_landers_are_kept_apart(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MONITORLINK_LAKE_URI", "s3://bucket")
    with pytest.raises(ConfigError, match="s3://bucket/prefix"):
        load_settings()
    monkeypatch.setenv("MONITORLINK_LAKE_URI", "s3://bucket/lake")
    monkeypatch.delenv("MONITORLINK_LOCK_DSN", raising=False)
    with pytest.raises(ConfigError, match="MONITORLINK_LAKE_URI needs MONITORLINK_LOCK_DSN"):
        load_settings()
    monkeypatch.setenv("MONITORLINK_LOCK_DSN", "local")
    settings = load_settings()
    assert settings.lock_dsn is None and str(settings.lake_root) == "s3://bucket/lake"
