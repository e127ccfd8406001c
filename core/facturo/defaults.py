"""The commented configuration file written by ``facturo init``."""

from __future__ import annotations

CONFIG_TEMPLATE = """# Facturo configuration. Every key can be overridden by an environment variable:
# FACTURO_<KEY> for top-level keys, FACTURO_<TABLE>__<KEY> inside tables,
# e.g. FACTURO_DATABASE_URL, FACTURO_SMTP__PASSWORD, FACTURO_PLUGIN__RURALVIA__SECRET_KEY.

# SQLAlchemy URL: sqlite:///var/facturo.db or postgresql://user@host/dbname
database_url = "{database_url}"
# Signs session cookies and tokens. Keep it secret; changing it logs everyone out.
secret_key = "{secret_key}"
# Where customers reach the site (used in emails and gateway callbacks).
base_url = "http://127.0.0.1:8000"
time_zone = "Europe/Madrid"
currency = "EUR"
# Files (emails written when no SMTP is configured, uploads) live here.
data_dir = "var"
# Run the outbox worker inside `facturo serve` (fine for SQLite / one machine).
embedded_worker = true
# Rate limits are counted in memory, per process; several web processes share them in Redis:
# rate_limit_storage = "redis://127.0.0.1:6379/0"
# Reverse proxies whose X-Forwarded-For is believed (addresses or networks); none by default.
trusted_proxies = []
# Admins must set up a second factor (authenticator app or passkey); customers optionally.
admin_two_factor_required = true
customer_two_factor_required = false
# Strict-Transport-Security max-age, sent when base_url is https (0: off).
hsts_max_age = 31536000
# Lowest password strength accepted (zxcvbn score, 0-4).
password_min_score = 3

[sessions]
# Logins end after this long unused (sliding) or after this long at most.
staff_idle_minutes = 30
staff_max_hours = 12
customer_idle_days = 14
customer_max_days = 90

[seller]
legal_name = "Your Company S.L."
nif = "B00000000"
address = "Calle Mayor 1"
postal_code = "28001"
city = "Madrid"
province = "Madrid"
country = "ES"
email = "billing@example.com"
phone = ""
# Optional PNG or JPEG printed at the top of invoices, proformas and credit notes.
# logo = "branding/logo.png"

[smtp]
# Leave host empty to write emails as .eml files under var/mail/.
host = ""
port = 587
security = "starttls"   # none, starttls or ssl
user = ""
password = ""           # better: FACTURO_SMTP__PASSWORD
from_address = "billing@example.com"
reply_to = ""

[billing]
invoice_days_before = 14
reminder_days_before = [7, 1]
reminder_days_after = [1, 3]
suspend_after_days = 7
terminate_after_days = 30
run_hour = 6
# Renewals of customers with a saved card are charged by the billing run; a declined charge
# is retried this many days after the first one, then left to the customer to pay.
collection_retry_days = [1, 3, 7]
invoice_format = "F{{year}}-{{seq:06}}"
credit_note_format = "R{{year}}-{{seq:06}}"
proforma_format = "PRO-{{year}}-{{seq:06}}"
# An add-on bought mid-term is charged pro rata up to its licence's next due date and then
# renews with the licence, on the same renewal proforma.
coterm_addons = true

[delivery]
# A worker holds the emails it is sending for lease_seconds, renewed while it works; a
# crashed worker's emails go out again after that. A failing email is retried with
# exponential backoff (retry_base_seconds doubling up to retry_max_delay_seconds) for
# retry_for_hours, then kept as failed for staff (who can retry them all at once).
lease_seconds = 60
retry_base_seconds = 60
retry_max_delay_seconds = 3600
retry_for_hours = 96

[operations]
# /metrics answers local addresses, and anyone sending "Authorization: Bearer <token>".
metrics_token = ""       # better: FACTURO_OPERATIONS__METRICS_TOKEN
# /readyz fails when the worker's heartbeat is older than this.
worker_stale_seconds = 300

[books]
# Activity columns of the VAT books (AEAT common format); ask your tax adviser.
activity_code = "A"     # A: activities in the IAE
activity_type = "03"    # 03: other business activities
iae_epigraph = ""       # your IAE heading, up to 4 characters

[legal]
# Terms and privacy: an outside URL, or a local Markdown (.md) or HTML file served at
# /public/terms and /public/privacy (empty: a built-in summary).
terms_url = ""
terms_file = ""
privacy_url = ""
privacy_file = ""
# Version of the consumer's "immediate supply" consent text, recorded with every order.
consent_version = "2026-12"
withdrawal_days = 14

[plugins]
# Bundled: transfer, ruralvia, paypal, prestaimport_license, tickets, verifactu, vies, sepa
enabled = []

# Each enabled plugin reads its own table, e.g.:
# [plugin.transfer]
# account_holder = "Your Company S.L."
# iban = "ES91 2100 0418 4502 0005 1332"
# bic = "CAIXESBBXXX"
# [plugin.vies]
# mode = "live"          # or "sandbox" (the local stand-in)
# timeout = 10
# cache_days = 30
"""


def config_template(secret_key: str, database_url: str) -> str:
    """The commented facturo.toml with ``secret_key`` and ``database_url`` filled in."""
    return CONFIG_TEMPLATE.format(secret_key=secret_key, database_url=database_url)
