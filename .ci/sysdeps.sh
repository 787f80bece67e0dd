#!/bin/sh
# Install the system packages the kiosk and its tests use, when we can.
#   libzbar0       pyzbar's decoder (the camera scan)
#   gnome-keyring  + dbus: the real Secret Service for the keyring tests
#   oathtool       an OTP implementation nobody here wrote, to check codes against
#   tmux           the terminal UI smoke test
#   postgresql     the shared-store tests start their own server
#   libcairo2      cairosvg rasterizes screenshots for the on-screen QR code test
#   chromium       the headless browser of the `ipkiosk serve` test
#   gettext        msgfmt: the test that the compiled Spanish catalog matches its .po
PKGS="libzbar0 gnome-keyring dbus dbus-daemon oathtool tmux postgresql sqlite3 libcairo2 chromium gettext"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing system packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
    echo "note: some system packages are missing; tests that need them will skip."
    echo "      install them with: sudo apt-get install$missing"
fi
exit 0
