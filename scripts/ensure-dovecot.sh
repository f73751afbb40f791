#!/usr/bin/env bash
# Make sure Dovecot (IMAP + POP3) exists for the mailbox tests of delivery feedback.
# Installs Debian's dovecot-imapd and dovecot-pop3d when missing and we are root.
set -euo pipefail
if command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ]; then
  [ -e /usr/lib/dovecot/imap ] && [ -e /usr/lib/dovecot/pop3 ] && { echo "Dovecot: present"; exit 0; }
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Dovecot missing: installing Debian's dovecot-imapd and dovecot-pop3d"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    dovecot-imapd dovecot-pop3d >/dev/null
  echo "Dovecot: installed"
  exit 0
fi
echo "Dovecot is missing and cannot be installed here; the IMAP/POP3 tests will be skipped" >&2
echo "(install dovecot-imapd and dovecot-pop3d to run them)." >&2
