"""Reference data for address checks: ISO 3166-1 alpha-2 codes, country names, regions, postal codes."""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "COUNTRY_CODES",
    "COUNTRY_ALIASES",
    "REGIONS",
    "REGION_REQUIRED",
    "POSTAL_PATTERNS",
    "POSTAL_NAMES",
    "POSTAL_EXAMPLES",
    "GENERIC_POSTAL",
    "NO_POSTCODE",
    "STREET_NUMBER_REQUIRED",
    "REGION_WORD",
    "postal_format",
]

COUNTRY_CODES: Final = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
    BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE
    EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM
    HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC
    LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA
    NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
    SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
    TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
    """.split()  # noqa: SIM905
)

# lower-case names and common spellings -> code (codes themselves are accepted as they are)
COUNTRY_ALIASES: Final[dict[str, str]] = {
    "usa": "US",
    "u s": "US",
    "u s a": "US",
    "united states": "US",
    "united states of america": "US",
    "america": "US",
    "canada": "CA",
    "uk": "GB",
    "u k": "GB",
    "united kingdom": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "germany": "DE",
    "deutschland": "DE",
    "france": "FR",
    "india": "IN",
    "bharat": "IN",
    "australia": "AU",
    "netherlands": "NL",
    "the netherlands": "NL",
    "holland": "NL",
    "nederland": "NL",
    "spain": "ES",
    "españa": "ES",
    "espana": "ES",
    "italy": "IT",
    "italia": "IT",
    "ireland": "IE",
    "mexico": "MX",
    "méxico": "MX",
    "japan": "JP",
    "china": "CN",
    "brazil": "BR",
    "brasil": "BR",
    "switzerland": "CH",
    "austria": "AT",
    "belgium": "BE",
    "sweden": "SE",
    "norway": "NO",
    "denmark": "DK",
    "finland": "FI",
    "poland": "PL",
    "portugal": "PT",
    "new zealand": "NZ",
    "singapore": "SG",
    "south africa": "ZA",
    "uae": "AE",
    "united arab emirates": "AE",
    "hong kong": "HK",
    "south korea": "KR",
    "korea": "KR",
}

_US = {
    "AL": "alabama", "AK": "alaska", "AZ": "arizona", "AR": "arkansas", "CA": "california",
    "CO": "colorado", "CT": "connecticut", "DE": "delaware", "FL": "florida", "GA": "georgia",
    "HI": "hawaii", "ID": "idaho", "IL": "illinois", "IN": "indiana", "IA": "iowa", "KS": "kansas",
    "KY": "kentucky", "LA": "louisiana", "ME": "maine", "MD": "maryland", "MA": "massachusetts",
    "MI": "michigan", "MN": "minnesota", "MS": "mississippi", "MO": "missouri", "MT": "montana",
    "NE": "nebraska", "NV": "nevada", "NH": "new hampshire", "NJ": "new jersey", "NM": "new mexico",
    "NY": "new york", "NC": "north carolina", "ND": "north dakota", "OH": "ohio", "OK": "oklahoma",
    "OR": "oregon", "PA": "pennsylvania", "RI": "rhode island", "SC": "south carolina",
    "SD": "south dakota", "TN": "tennessee", "TX": "texas", "UT": "utah", "VT": "vermont",
    "VA": "virginia", "WA": "washington", "WV": "west virginia", "WI": "wisconsin", "WY": "wyoming",
    "DC": "district of columbia", "PR": "puerto rico", "GU": "guam", "VI": "virgin islands",
    "AS": "american samoa", "MP": "northern mariana islands",
    "AA": "armed forces americas", "AE": "armed forces europe", "AP": "armed forces pacific",
}  # fmt: skip
_CA = {
    "AB": "alberta", "BC": "british columbia", "MB": "manitoba", "NB": "new brunswick",
    "NL": "newfoundland and labrador", "NS": "nova scotia", "NT": "northwest territories",
    "NU": "nunavut", "ON": "ontario", "PE": "prince edward island", "QC": "quebec",
    "SK": "saskatchewan", "YT": "yukon",
}  # fmt: skip
_AU = {
    "ACT": "australian capital territory", "NSW": "new south wales", "NT": "northern territory",
    "QLD": "queensland", "SA": "south australia", "TAS": "tasmania", "VIC": "victoria",
    "WA": "western australia",
}  # fmt: skip
_IN_STATES = (  # noqa: SIM905
    "Andhra Pradesh, Arunachal Pradesh, Assam, Bihar, Chhattisgarh, Goa, Gujarat, Haryana, "
    "Himachal Pradesh, Jharkhand, Karnataka, Kerala, Madhya Pradesh, Maharashtra, Manipur, Meghalaya, "
    "Mizoram, Nagaland, Odisha, Punjab, Rajasthan, Sikkim, Tamil Nadu, Telangana, Tripura, "
    "Uttar Pradesh, Uttarakhand, West Bengal, Andaman and Nicobar Islands, Chandigarh, "
    "Dadra and Nagar Haveli and Daman and Diu, Delhi, Jammu and Kashmir, Ladakh, Lakshadweep, Puducherry"
).split(", ")


def _coded(table: dict[str, str], extra: dict[str, str] | None = None) -> dict[str, str]:
    out = {code.lower(): code for code in table}
    out.update({name: code for code, name in table.items()})
    out.update(extra or {})
    return out


#: country -> {lower-case code or name: canonical region}; US/CA/AU normalise to the postal abbreviation.
REGIONS: Final[dict[str, dict[str, str]]] = {
    "US": _coded(_US, {"washington dc": "DC", "d.c.": "DC", "washington d.c.": "DC"}),
    "CA": _coded(_CA, {"québec": "QC", "newfoundland": "NL", "pei": "PE", "yukon territory": "YT"}),
    "AU": _coded(_AU),
    "IN": {name.lower(): name for name in _IN_STATES} | {"orissa": "Odisha", "new delhi": "Delhi"},
}
REGION_REQUIRED: Final = frozenset({"US", "CA", "AU"})
REGION_WORD: Final = {"US": "state", "CA": "province", "AU": "state", "IN": "state"}

# Whole-string patterns on upper-cased, space-collapsed text; each match is normalised by _postal_format.
POSTAL_PATTERNS: Final[dict[str, str]] = {
    "US": r"\d{5}(?:-\d{4})?",
    "CA": r"[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d",
    "GB": r"(?:[A-Z]{1,2}\d[A-Z\d]?|GIR) ?\d[A-Z]{2}",
    "DE": r"\d{5}",
    "FR": r"\d{5}",
    "IT": r"\d{5}",
    "ES": r"(?:0[1-9]|[1-4]\d|5[0-2])\d{3}",
    "IN": r"[1-9]\d{2} ?\d{3}",
    "AU": r"\d{4}",
    "NL": r"[1-9]\d{3} ?[A-Z]{2}",
}
GENERIC_POSTAL: Final = r"[A-Z0-9](?:[A-Z0-9 -]{0,8}[A-Z0-9])?"
POSTAL_NAMES: Final = {
    "US": "US ZIP code",
    "CA": "Canadian postal code",
    "GB": "UK postcode",
    "DE": "German postal code",
    "FR": "French postal code",
    "IT": "Italian postal code (CAP)",
    "ES": "Spanish postal code",
    "IN": "Indian PIN code",
    "AU": "Australian postcode",
    "NL": "Dutch postcode",
}
POSTAL_EXAMPLES: Final = {
    "US": "62704 or 62704-1234",
    "CA": "K1A 0B1",
    "GB": "SW1A 2AA",
    "DE": "10115",
    "FR": "75001",
    "IT": "00184",
    "ES": "28013",
    "IN": "560001",
    "AU": "2000",
    "NL": "1012 AB",
}
#: Countries where many addresses have no postal code; there it may be left out.
NO_POSTCODE: Final = frozenset(
    """
    AE AG AO AW BF BI BJ BO BS BW BZ CD CF CG CI CK CM DJ DM ER FJ GA GD GH GM GN GQ GY HK IE KI KM KN
    KP LC ML MO MR MS MW NR NU QA RW SB SC SL SO SR SS ST SY TD TG TK TL TO TT TV UG VU YE ZW
    """.split()  # noqa: SIM905
)
#: Countries whose street lines (nearly) always carry a house number.
STREET_NUMBER_REQUIRED: Final = frozenset({"US", "CA"})

_SPACE = re.compile(r"\s+")


def postal_format(country: str, code: str) -> str:
    """Canonical spelling of a postal code that already matched its pattern."""
    compact = _SPACE.sub("", code.upper())
    if country in ("CA", "GB", "NL") and len(compact) > 3:
        split = 4 if country == "NL" else len(compact) - 3
        return f"{compact[:split]} {compact[split:]}"
    if country == "IN":
        return compact
    return _SPACE.sub(" ", code.upper()).strip()
