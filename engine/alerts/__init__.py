"""Alerts away from the desk: channels (webhook, ntfy, Telegram), a dispatcher that sends off the caller's
thread with retries and a rate limit, the channels' secrets in the keyring, the `--alerts-config` file, and
the dead-man's switch (heartbeat, stale feeds). Qt-free: the window and `marginwatch watch` share it."""
