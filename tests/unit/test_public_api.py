"""The public surface is small and explicit; changing it is a decision, so this test pins it."""

import esiframe as ef

PUBLIC = [
    "AuthError",
    "Client",
    "ClientError",
    "CompatibilityDateError",
    "EsiError",
    "EsiHTTPError",
    "EsiframeWarning",
    "InconsistentPagesError",
    "LoginRequired",
    "OperationNotFound",
    "ParameterError",
    "PartialResultError",
    "RateLimitedError",
    "ServerError",
    "Settings",
    "TokenInvalid",
    "TransportError",
    "UnexpectedAnswerError",
    "__version__",
    "characters",
    "configure",
    "describe",
    "explode",
    "get",
    "label",
    "login",
    "logout",
    "names",
    "ops",
    "read_parquet",
    "sync",
    "to_parquet",
]


def test_all_is_pinned():
    assert ef.__all__ == PUBLIC


def test_every_public_name_exists_and_errors_form_one_hierarchy():
    for name in PUBLIC:
        if name != "ops":  # built on first use from the default client
            assert hasattr(ef, name), name
    for name in PUBLIC:
        obj = getattr(ef, name) if name != "ops" else None
        if isinstance(obj, type) and issubclass(obj, Exception) and not issubclass(obj, Warning):
            assert issubclass(obj, ef.EsiError), name
    assert issubclass(ef.EsiframeWarning, UserWarning)
    assert issubclass(ef.RateLimitedError, ef.EsiHTTPError)
    assert issubclass(ef.ParameterError, ValueError)


def test_no_submodule_hides_a_public_name_once_everything_is_loaded():
    # Importing a submodule sets it as an attribute of the package: a module named like a
    # public function (names.py and ef.names once) would replace the function on first use.
    import importlib
    import pkgutil
    import types

    for module in pkgutil.walk_packages(ef.__path__, "esiframe."):
        if ".sandbox" not in module.name and not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    for name in PUBLIC:
        if name != "ops":
            assert not isinstance(getattr(ef, name), types.ModuleType), name


def test_user_agent_names_the_app_then_esiframe():
    settings = ef.Settings(
        app_name="MyApp", app_version="1.2", contact="me@example.com", url="https://x.example"
    )
    assert settings.user_agent == (
        f"MyApp/1.2 (me@example.com; +https://x.example) esiframe/{ef.__version__} "
        "(+https://github.com/esiframe/esiframe)"
    )


def test_dir_lists_every_public_name_and_no_import_noise():
    names = dir(ef)
    assert set(PUBLIC) <= set(names)
    assert "ops" in names
    assert not {"Any", "TYPE_CHECKING", "annotations", "pd"} & set(names)
