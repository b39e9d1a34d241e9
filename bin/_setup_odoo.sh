# Sourced by _odoo_env.sh when no Odoo 18.0 is importable and ODOO_BIN is unset: installs
# Odoo 18.0 the upstream way (Odoo's source install guide) into .build/odoo, and sets
# ODOO_BIN to it. ODOO_GIT_URL picks another clone of odoo/odoo (a mirror, a local copy).
ODOO_GIT_URL=${ODOO_GIT_URL:-https://github.com/odoo/odoo.git}
ODOO_CHECKOUT="$BUILD/odoo"

if [ ! -x "$ODOO_CHECKOUT/odoo-bin" ]; then
    echo "Odoo 18.0 is not installed: cloning $ODOO_GIT_URL (branch 18.0) into .build/odoo..."
    rm -rf "$ODOO_CHECKOUT"
    if ! git clone --quiet --depth 1 --branch 18.0 "$ODOO_GIT_URL" "$ODOO_CHECKOUT"; then
        echo "error: cannot clone $ODOO_GIT_URL. Set ODOO_GIT_URL to a reachable clone of" >&2
        echo "       odoo/odoo, or install Odoo 18.0 yourself (README.md, 'Prerequisites')." >&2
        exit 3
    fi
    # What python-ldap, psycopg2 and the others build against (Debian's package names).
    build_packages=(build-essential python3-dev libldap2-dev libsasl2-dev libpq-dev
                    libxml2-dev libxslt1-dev libjpeg-dev zlib1g-dev)
    missing_packages=()
    if command -v dpkg-query >/dev/null; then
        for package in "${build_packages[@]}"; do
            dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" \
                || missing_packages+=("$package")
        done
    fi
    if [ ${#missing_packages[@]} -gt 0 ]; then
        echo "Installing Debian build packages: ${missing_packages[*]}"
        sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
        "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
            "${missing_packages[@]}" >/dev/null
    fi
    # cbor2 5.4.2, pinned for older Pythons, does not build on Python 3.11: 5.4.6 does.
    sed 's/^cbor2==5\.4\.2\b/cbor2==5.4.6/' "$ODOO_CHECKOUT/requirements.txt" \
        >"$BUILD/odoo-requirements.txt"
    echo "Installing Odoo's Python requirements..."
    "$PYTHON" -m pip install -q --disable-pip-version-check -r "$BUILD/odoo-requirements.txt"
fi
ODOO_BIN="$ODOO_CHECKOUT/odoo-bin"
