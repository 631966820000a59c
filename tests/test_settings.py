"""Start-up configuration: bad values stop the server with the variable's name, never its value."""

import os
import subprocess
import sys

import pytest

from kernel.settings import SettingsError, load_settings

REQUIRED = {
    "STRIPE_API_KEY": "sk_test_abcdefghijklmnop",
    "INTERCOM_CLIENT_SECRET": "client-secret-value",
    "SECRET_KEY": "s3cret-signing-key-0123456789",
}


def test_missing_variables_are_named():
    with pytest.raises(SettingsError) as error:
        load_settings(_env_file=None, secret_key="x" * 20)
    message = str(error.value)
    assert "STRIPE_API_KEY: is required but not set" in message
    assert "INTERCOM_CLIENT_SECRET: is required but not set" in message


def test_malformed_values_are_named_without_echoing_them():
    with pytest.raises(SettingsError) as error:
        load_settings(
            _env_file=None,
            stripe_api_key="sk_test_x",
            intercom_client_secret="c",
            secret_key="short-secret",
            refund_max_amount="lots",
        )
    message = str(error.value)
    assert "SECRET_KEY: must be at least 16 characters" in message
    assert "REFUND_MAX_AMOUNT" in message
    assert "short-secret" not in message


def test_comma_separated_fin_tokens_and_database_urls():
    settings = load_settings(
        _env_file=None,
        **{k.lower(): v for k, v in REQUIRED.items()},
        fin_action_tokens="token-one-0123456789, token-two-0123456789,,token-three-0123456789",
        database_url="postgresql://postgres@127.0.0.1:5432/test",
    )
    assert [t.get_secret_value() for t in settings.fin_action_tokens] == [
        "token-one-0123456789",
        "token-two-0123456789",
        "token-three-0123456789",
    ]
    assert settings.database_url == "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    assert "sk_test_abcdefghijklmnop" not in repr(settings)


def test_region_picks_the_intercom_base_url():
    base = {k.lower(): v for k, v in REQUIRED.items()}
    assert load_settings(_env_file=None, **base, intercom_region="eu").intercom_base_url == (
        "https://api.eu.intercom.io"
    )
    assert load_settings(
        _env_file=None, **base, intercom_api_base="http://127.0.0.1:9/"
    ).intercom_base_url == ("http://127.0.0.1:9")


def test_dashboard_links_follow_the_key_mode():
    base = {k.lower(): v for k, v in REQUIRED.items()}
    assert load_settings(_env_file=None, **base).stripe_dashboard_url("customers/cus_1") == (
        "https://dashboard.stripe.com/test/customers/cus_1"
    )
    live = base | {"stripe_api_key": "rk_live_123"}
    assert load_settings(_env_file=None, **live).stripe_dashboard_url("customers/cus_1") == (
        "https://dashboard.stripe.com/customers/cus_1"
    )


def start_server(tmp_path, **variables: str) -> subprocess.CompletedProcess[str]:
    """Build the ASGI app the way uvicorn does, from the environment, in a process of its own."""
    env = {k: v for k, v in os.environ.items() if k not in REQUIRED}
    env.update(REQUIRED, **variables)
    return subprocess.run(
        [sys.executable, "-c", "import canvas_app.app as m; m.app"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.slow
def test_server_refuses_to_start_and_names_the_variable(tmp_path):
    result = start_server(tmp_path, SECRET_KEY="short")
    assert result.returncode == 2
    assert "SECRET_KEY" in result.stderr
    assert "short" not in result.stderr.replace("SECRET_KEY", "")
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_a_short_fin_action_token_stops_start_up_naming_its_position_not_its_value(tmp_path):
    result = start_server(tmp_path, FIN_ACTION_TOKENS="a-long-enough-fin-token-0123, x7")
    assert result.returncode == 2
    assert "FIN_ACTION_TOKENS: entry 2 is shorter than 16 characters" in result.stderr
    assert "x7" not in result.stderr and "a-long-enough" not in result.stderr
    assert "Traceback" not in result.stderr


def test_fin_action_tokens_of_sixteen_characters_are_accepted():
    settings = load_settings(
        _env_file=None,
        **{k.lower(): v for k, v in REQUIRED.items()},
        fin_action_tokens="0123456789abcdef,fedcba9876543210",
    )
    assert len(settings.fin_action_tokens) == 2
