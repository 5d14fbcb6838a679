"""Settings: every ESIFRAME_* variable read by one parser, with errors that name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from esiframe.errors import ParameterError
from esiframe.progress import progress_enabled
from esiframe.settings import ENV, TOKEN_FILE, Settings, config_dir


@pytest.mark.parametrize("word", ["0", "false", "No", "OFF", "none"])
def test_every_boolean_variable_reads_the_same_false_words(word, monkeypatch):
    monkeypatch.setenv("ESIFRAME_LOOPBACK", word)
    monkeypatch.setenv("ESIFRAME_PROGRESS", word)
    monkeypatch.setenv("ESIFRAME_CACHE_DIR", word)
    settings = Settings.from_env()
    assert settings.loopback is False and settings.progress is False
    assert settings.cache is False and settings.cache_dir is None
    assert progress_enabled(None) is False


@pytest.mark.parametrize("word", ["1", "true", "Yes", "on"])
def test_every_boolean_variable_reads_the_same_true_words(word, monkeypatch):
    monkeypatch.setenv("ESIFRAME_LOOPBACK", word)
    monkeypatch.setenv("ESIFRAME_PROGRESS", word)
    settings = Settings.from_env()
    assert settings.loopback is True and settings.progress is True
    assert progress_enabled(None) is True
    assert progress_enabled(False) is False  # an explicit setting wins over the environment


@pytest.mark.parametrize(
    ("var", "value", "match"),
    [
        ("ESIFRAME_LOOPBACK", "maybe", "ESIFRAME_LOOPBACK='maybe' is not a yes/no value"),
        ("ESIFRAME_MAX_WORKERS", "many", "ESIFRAME_MAX_WORKERS must be a whole number"),
        ("ESIFRAME_MAX_REQUESTS", "1e6", "ESIFRAME_MAX_REQUESTS must be a whole number"),
        ("ESIFRAME_MAX_REQUESTS", "0", "max_requests must be a positive integer"),
        ("ESIFRAME_CONFIG_DIR", " ", "ESIFRAME_CONFIG_DIR is set but empty"),
    ],
)
def test_a_bad_variable_is_named_with_what_is_allowed(var, value, match, monkeypatch):
    monkeypatch.setenv(var, value)
    with pytest.raises(ParameterError, match=match):
        Settings.from_env()


def test_integers_and_paths_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ESIFRAME_MAX_REQUESTS", " 250 ")
    monkeypatch.setenv("ESIFRAME_MAX_WORKERS", "3")
    monkeypatch.setenv("ESIFRAME_CONFIG_DIR", str(tmp_path / "conf"))
    monkeypatch.setenv("ESIFRAME_CACHE_DIR", str(tmp_path / "cache"))
    settings = Settings.from_env()
    assert (settings.max_requests, settings.max_workers) == (250, 3)
    assert settings.token_path == tmp_path / "conf" / TOKEN_FILE
    assert settings.cache_dir == tmp_path / "cache"
    assert Settings.from_env(max_requests=7).max_requests == 7  # keywords win


def test_config_dir_prefers_the_setting_then_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ESIFRAME_CONFIG_DIR", str(tmp_path / "env"))
    assert config_dir() == tmp_path / "env"
    assert config_dir(tmp_path / "given") == tmp_path / "given"
    monkeypatch.delenv("ESIFRAME_CONFIG_DIR")
    assert config_dir().name == "esiframe" and isinstance(config_dir(), Path)


def test_every_variable_belongs_to_a_setting_and_is_named_esiframe():
    fields = set(Settings.__dataclass_fields__)
    assert set(ENV) <= fields
    assert all(var == "ESIFRAME_" + var[9:] for var, _ in ENV.values())
    assert len({var for var, _ in ENV.values()}) == len(ENV)


def test_unknown_settings_are_named():
    with pytest.raises(ParameterError, match=r"unknown setting.*max_request\b"):
        Settings.from_env(max_request=5)


def test_a_plain_http_esi_on_another_host_warns_but_loopback_does_not():
    import warnings

    import esiframe as ef
    from esiframe.errors import EsiframeWarning

    with pytest.warns(EsiframeWarning, match="plain http on another host"):
        ef.Client(base_url="http://esi.example.com", contact="tests@example.com")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ef.Client(base_url="http://127.0.0.1:8080", contact="tests@example.com")
        ef.Client(base_url="http://[::1]:8080", contact="tests@example.com")
        ef.Client(base_url="https://esi.evetech.net", contact="tests@example.com")
