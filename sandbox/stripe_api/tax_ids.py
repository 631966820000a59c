"""Customer tax ids: ``/v1/customers/{id}/tax_ids`` (create, list, retrieve, delete).

Values are checked against the format of their type (EU VAT numbers per member state); a bad
one is Stripe's 400 ``tax_id_invalid``. EU and UK VAT numbers start ``pending`` and are
verified right after the create call has answered (real Stripe asks VIES/HMRC, which takes
seconds): ``customer.tax_id.updated`` then says ``verified``, or ``unverified`` for the test
number ``…111111111``. Types Stripe does not verify say ``unavailable``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from . import objects as ob
from .errors import ApiError, invalid, missing, missing_param
from .params import check_params, paginate
from .state import StripeState

if TYPE_CHECKING:
    from .server import Ctx

# eu_vat: member-state prefix → number after it (VIES formats); EL is Greece, XI Northern Ireland.
EU_VAT = {
    "AT": r"U\d{8}",
    "BE": r"[01]\d{9}",
    "BG": r"\d{9,10}",
    "CY": r"\d{8}[A-Z]",
    "CZ": r"\d{8,10}",
    "DE": r"\d{9}",
    "DK": r"\d{8}",
    "EE": r"\d{9}",
    "EL": r"\d{9}",
    "ES": r"[0-9A-Z]\d{7}[0-9A-Z]",
    "FI": r"\d{8}",
    "FR": r"[0-9A-Z]{2}\d{9}",
    "HR": r"\d{11}",
    "HU": r"\d{8}",
    "IE": r"\d{7}[A-Z]{1,2}|\d[A-Z+*]\d{5}[A-Z]",
    "IT": r"\d{11}",
    "LT": r"\d{9}|\d{12}",
    "LU": r"\d{8}",
    "LV": r"\d{11}",
    "MT": r"\d{8}",
    "NL": r"\d{9}B\d{2}",
    "PL": r"\d{10}",
    "PT": r"\d{9}",
    "RO": r"\d{2,10}",
    "SE": r"\d{12}",
    "SI": r"\d{8}",
    "SK": r"\d{10}",
    "XI": r"\d{9}|\d{12}|GD\d{3}|HA\d{3}",
}
_PREFIX_COUNTRY = {"EL": "GR", "XI": "GB"}
# Other types with a known format; the rest only need a value.
FORMATS = {
    "gb_vat": r"GB(\d{9}|\d{12}|GD\d{3}|HA\d{3})",
    "ch_vat": r"CHE-\d{3}\.\d{3}\.\d{3} (MWST|TVA|IVA)",
    "no_vat": r"\d{9}MVA",
    "us_ein": r"\d{2}-\d{7}",
    "au_abn": r"\d{11}",
}
VERIFIED_TYPES = {"eu_vat", "gb_vat"}
UNVERIFIED_TEST_NUMBER = "111111111"
TYPES = [
    "ad_nrt",
    "ae_trn",
    "al_tin",
    "am_tin",
    "ao_tin",
    "ar_cuit",
    "au_abn",
    "au_arn",
    "aw_tin",
    "az_tin",
    "ba_tin",
    "bb_tin",
    "bd_bin",
    "bf_ifu",
    "bg_uic",
    "bh_vat",
    "bj_ifu",
    "bo_tin",
    "br_cnpj",
    "br_cpf",
    "bs_tin",
    "by_tin",
    "ca_bn",
    "ca_gst_hst",
    "ca_pst_bc",
    "ca_pst_mb",
    "ca_pst_sk",
    "ca_qst",
    "cd_nif",
    "ch_uid",
    "ch_vat",
    "cl_tin",
    "cm_niu",
    "cn_tin",
    "co_nit",
    "cr_tin",
    "cv_nif",
    "de_stn",
    "do_rcn",
    "ec_ruc",
    "eg_tin",
    "es_cif",
    "et_tin",
    "eu_oss_vat",
    "eu_vat",
    "gb_vat",
    "ge_vat",
    "gn_nif",
    "hk_br",
    "hr_oib",
    "hu_tin",
    "id_npwp",
    "il_vat",
    "in_gst",
    "is_vat",
    "jp_cn",
    "jp_rn",
    "jp_trn",
    "ke_pin",
    "kg_tin",
    "kh_tin",
    "kr_brn",
    "kz_bin",
    "la_tin",
    "li_uid",
    "li_vat",
    "ma_vat",
    "md_vat",
    "me_pib",
    "mk_vat",
    "mr_nif",
    "mx_rfc",
    "my_frp",
    "my_itn",
    "my_sst",
    "ng_tin",
    "no_vat",
    "no_voec",
    "np_pan",
    "nz_gst",
    "om_vat",
    "pe_ruc",
    "ph_tin",
    "ro_tin",
    "rs_pib",
    "ru_inn",
    "ru_kpp",
    "sa_vat",
    "sg_gst",
    "sg_uen",
    "si_tin",
    "sn_ninea",
    "sr_fin",
    "sv_nit",
    "th_vat",
    "tj_tin",
    "tr_tin",
    "tw_vat",
    "tz_vat",
    "ua_vat",
    "ug_tin",
    "us_ein",
    "uy_ruc",
    "uz_tin",
    "uz_vat",
    "ve_rif",
    "vn_tin",
    "za_vat",
    "zm_tin",
    "zw_tin",
]
MAX_PER_CUSTOMER = 25


def normalize(type_: str, value: str) -> tuple[str, str | None]:
    """The stored value and its country, or 400 ``tax_id_invalid``."""
    if type_ not in TYPES:
        raise invalid(f"Invalid type: must be one of {', '.join(TYPES)}", "type")
    cleaned = value.strip()
    if type_ in ("eu_vat", "gb_vat"):
        cleaned = re.sub(r"[\s.\-]", "", cleaned).upper()
    country: str | None = type_[:2].upper()
    ok = bool(cleaned)
    if type_ == "eu_vat":
        prefix, rest = cleaned[:2], cleaned[2:]
        ok = prefix in EU_VAT and re.fullmatch(EU_VAT[prefix], rest) is not None
        country = _PREFIX_COUNTRY.get(prefix, prefix)
    elif type_ == "eu_oss_vat":
        country = None
    elif type_ in FORMATS:
        ok = re.fullmatch(FORMATS[type_], cleaned) is not None
    if not ok:
        raise ApiError(400, f"Invalid value for {type_}.", code="tax_id_invalid", param="value")
    return cleaned, country


def create(state: StripeState, customer: dict[str, Any], type_: str, value: str) -> dict[str, Any]:
    """Store a tax id for the customer (``customer.tax_id.created``)."""
    cleaned, country = normalize(type_, value)
    if sum(1 for t in state.all("tax_id") if t["customer"] == customer["id"]) >= MAX_PER_CUSTOMER:
        raise invalid(f"A customer can have at most {MAX_PER_CUSTOMER} tax IDs.", "value")
    txi = ob.tax_id(
        id=state.new_id("txi"),
        created=state.now(),
        customer=customer["id"],
        type=type_,
        value=cleaned,
        country=country,
        verification_status="pending" if type_ in VERIFIED_TYPES else "unavailable",
    )
    state.put(txi)
    state.emit("customer.tax_id.created", txi)
    return txi


def verify(state: StripeState, txi: dict[str, Any]) -> None:
    """Finish a pending verification (``customer.tax_id.updated``)."""
    ver = txi["verification"]
    if ver is None or ver["status"] != "pending":
        return
    before = state.render(txi)
    unverified = txi["value"].endswith(UNVERIFIED_TEST_NUMBER)
    ver["status"] = "unverified" if unverified else "verified"
    if not unverified:
        cus = state.get("customer", txi["customer"])
        ver["verified_name"] = cus["name"]
        addr = cus["address"] or {}
        parts = [addr.get("line1"), f"{addr.get('postal_code') or ''} {addr.get('city') or ''}"]
        ver["verified_address"] = "\n".join(p.strip() for p in parts if p and p.strip()) or None
    state.emit("customer.tax_id.updated", txi, state.previous_attributes(before, state.render(txi)))


def delete(state: StripeState, txi: dict[str, Any]) -> dict[str, Any]:
    """Remove a tax id (``customer.tax_id.deleted``)."""
    state.emit("customer.tax_id.deleted", txi)
    state.forget(txi["id"])
    return ob.deleted("tax_id", txi["id"])


def customer_tax_id(state: StripeState, customer_id: str, txi_id: str) -> dict[str, Any]:
    """A tax id of this customer, or Stripe's 404."""
    state.get("customer", customer_id)
    txi = state.find(txi_id, "tax_id")
    if txi is None or txi["customer"] != customer_id:
        raise missing("tax_id", txi_id)
    return txi


# ------------------------------------------------------------------------------ handlers
def tax_id_create(ctx: Ctx) -> dict[str, Any]:
    check_params(ctx, {"type", "value"})
    st, p = ctx.state, ctx.params
    cus = st.get("customer", ctx.path["id"])
    for k in ("type", "value"):
        if not p.get(k) or not isinstance(p[k], str):
            raise missing_param(k)
    txi = create(st, cus, p["type"], p["value"])
    answer = st.render(txi)  # answered while pending, as Stripe does
    verify(st, txi)
    return answer


def tax_ids_list(ctx: Ctx) -> dict[str, Any]:
    check_params(ctx, {"limit", "starting_after", "ending_before"})
    cus = ctx.state.get("customer", ctx.path["id"])
    objs = [t for t in ctx.state.all("tax_id") if t["customer"] == cus["id"]]
    return paginate(ctx, objs, f"/v1/customers/{cus['id']}/tax_ids", kind="tax_id")


def tax_id_get(ctx: Ctx) -> dict[str, Any]:
    txi = customer_tax_id(ctx.state, ctx.path["id"], ctx.path["txi"])
    return ctx.state.render(txi)


def tax_id_delete(ctx: Ctx) -> dict[str, Any]:
    check_params(ctx, set())
    return delete(ctx.state, customer_tax_id(ctx.state, ctx.path["id"], ctx.path["txi"]))
