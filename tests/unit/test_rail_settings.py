"""The withdrawal rails' settings (issue 10, part 3): read once by ``config.Settings``, from the
environment with the commands' options over them; ``bootstrap`` builds the SEPA debtor from them
as ``reclaim serve`` always did (a holder and BIC default when only the IBAN is set)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reclaim import bootstrap
from reclaim.adapters.rails.sepa import SepaDebtor
from reclaim.config import Settings, SettingsError
from tests.api.conftest import FIXED_TIME, FixedClock

IBAN = "DE89370400440532013000"
ENV = {
    "RECLAIM_DATA_DIR": "/srv/reclaim",
    "RECLAIM_SEPA_DEBTOR_NAME": "Reclaim Operator",
    "RECLAIM_SEPA_DEBTOR_IBAN": IBAN,
    "RECLAIM_SEPA_DEBTOR_BIC": "COBADEFFXXX",
}


def test_rail_settings_come_from_the_environment() -> None:
    settings = Settings.from_env(ENV | {"RECLAIM_USDC_ALLOW_LIST": "/etc/reclaim/usdc.txt"})
    assert (settings.sepa_debtor_name, settings.sepa_debtor_iban, settings.sepa_debtor_bic) == (
        "Reclaim Operator",
        IBAN,
        "COBADEFFXXX",
    )
    assert settings.usdc_allow_list == Path("/etc/reclaim/usdc.txt")
    assert bootstrap.sepa_debtor(settings) == SepaDebtor("Reclaim Operator", IBAN, "COBADEFFXXX")


def test_options_override_and_empty_variables_are_unset() -> None:
    settings = Settings.from_env(
        ENV | {"RECLAIM_SEPA_DEBTOR_BIC": "", "RECLAIM_USDC_ALLOW_LIST": ""},
        sepa_debtor_name="Other SAS",
        sepa_debtor_bic=None,
    )
    assert (settings.sepa_debtor_name, settings.sepa_debtor_bic) == ("Other SAS", None)
    assert settings.usdc_allow_list is None
    assert settings.usdc_addresses() == []
    assert Settings.from_env({}).sepa_debtor_iban is None
    assert bootstrap.sepa_debtor(Settings.from_env({})) is None


def test_serve_defaults_a_missing_holder_and_bic() -> None:
    settings = Settings.from_env({"RECLAIM_SEPA_DEBTOR_IBAN": IBAN})
    assert bootstrap.sepa_debtor(settings) == SepaDebtor("reclaim operator", IBAN, "")


def test_the_allow_list_is_read_when_asked(tmp_path: Path) -> None:
    listed = tmp_path / "usdc.txt"
    listed.write_text(
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359\n\n0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\n"
    )
    settings = Settings.from_env({}, usdc_allow_list=listed)
    assert settings.usdc_addresses() == [
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    ]
    missing = Settings.from_env({"RECLAIM_USDC_ALLOW_LIST": str(tmp_path / "none.txt")})
    with pytest.raises(SettingsError, match=r"USDC allow-list '.*none\.txt': No such file"):
        missing.usdc_addresses()


def test_the_container_builds_the_withdrawal_service_with_its_clock(tmp_path: Path) -> None:
    """No clock of its own (``SystemClock()`` only in ``bootstrap.build``): the service reads
    the container's, and its SEPA rail pays from the settings' debtor."""
    settings = Settings.from_env(ENV).with_data_dir(tmp_path / "d")
    bootstrap.init_keys(settings)
    container = bootstrap.build(settings, clock=FixedClock())
    try:
        service = container.withdrawals()
        assert service.clock is container.clock
        assert service.clock.now() == FIXED_TIME
        assert container.withdrawals() is service, "built once"
    finally:
        container.close()
    with pytest.raises(bootstrap.BootstrapError, match="refusing to overwrite existing keys"):
        bootstrap.init_keys(settings)
