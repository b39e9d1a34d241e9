# Sourced by bin/run and bin/test: finds Odoo 18, exposes this checkout to Odoo under the
# name hr_payout_link (whatever the clone's folder is called) and checks PostgreSQL.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD="$REPO/.build"
mkdir -p "$BUILD/addons"
ln -sfn "$REPO" "$BUILD/addons/hr_payout_link"
PYTHON=${PYTHON:-python3}

# No Odoo at hand: install it the upstream way into .build/odoo (or reuse that install).
if [ -z "${ODOO_BIN:-}" ] && ! "$PYTHON" -c 'import odoo.release' 2>/dev/null; then
    source "$REPO/bin/_setup_odoo.sh"
fi
if [ -n "${ODOO_BIN:-}" ]; then
    ODOO_SRC=$(cd "$(dirname "$ODOO_BIN")" && pwd)
    export PYTHONPATH="$ODOO_SRC${PYTHONPATH:+:$PYTHONPATH}"
    ODOO=("$PYTHON" "$ODOO_BIN")
else
    ODOO=("$PYTHON" -m odoo)
fi
if ! ODOO_VERSION=$("$PYTHON" -c 'import odoo.release as r; print(r.major_version)' 2>/dev/null); then
    echo "error: Odoo 18.0 is not importable by $PYTHON (and ODOO_BIN does not point at an" >&2
    echo "       odoo-bin). Install Odoo 18.0 Community first: see 'Prerequisites' in README.md." >&2
    exit 3
fi
if [ "$ODOO_VERSION" != "18.0" ]; then
    echo "error: found Odoo $ODOO_VERSION; hr_payout_link needs Odoo 18.0." >&2
    exit 3
fi
# Odoo's own default addons path: the core's odoo/addons, and the addons/ folder beside it
# in an upstream checkout of odoo/odoo (where web, mail, hr and portal live).
ODOO_ADDONS=$("$PYTHON" -c 'from odoo.tools import config
config.parse_config([], setup_logging=False)
print(config["addons_path"])')
ADDONS_PATH="$ODOO_ADDONS,$BUILD/addons"

# Odoo refuses to run as the PostgreSQL superuser 'postgres': use a role named after the
# system user, created as a superuser when it is missing.
export PGUSER=${PGUSER:-$(id -un)}
if [ "$PGUSER" = "postgres" ]; then
    echo "error: Odoo refuses the PostgreSQL role 'postgres'; set PGUSER to another role." >&2
    exit 3
fi
if ! psql -d postgres -Atc 'SELECT 1' >/dev/null 2>&1; then
    psql -U postgres -d postgres -c "CREATE ROLE \"$PGUSER\" SUPERUSER LOGIN" >/dev/null \
        || { echo "error: cannot reach PostgreSQL as $PGUSER nor create that role." >&2; exit 3; }
fi
ODOO_DB_ARGS=(--db_user="$PGUSER")

# The key of the secrets encrypted at rest (encryption.py), outside the database. These
# scripts make throwaway and demo databases: one key per checkout, kept in .build/. A
# production Odoo sets payout_encryption_key in its configuration file instead.
if [ -z "${HR_PAYOUT_LINK_ENCRYPTION_KEY:-}" ]; then
    if [ ! -s "$BUILD/encryption.key" ]; then
        (umask 077 && "$PYTHON" -c 'from cryptography.fernet import Fernet
print(Fernet.generate_key().decode())' >"$BUILD/encryption.key")
    fi
    export HR_PAYOUT_LINK_ENCRYPTION_KEY=$(cat "$BUILD/encryption.key")
fi
