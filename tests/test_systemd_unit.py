"""The systemd user unit in packaging/ runs a `watch` command line the CLI accepts, restarts on failure but not
on bad input, and reads secrets from an environment file, never from the unit itself."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

from desktop.cli import EXIT_BAD_INPUT, build_parser

ROOT = Path(__file__).resolve().parents[1]
UNIT = ROOT / "packaging" / "systemd" / "marginwatch-watch.service"


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read_string(UNIT.read_text())
    return parser


def test_the_unit_runs_watch_with_the_alerts_config_and_options_the_cli_accepts(tmp_path):
    service = unit()["Service"]
    argv = shlex.split(service["ExecStart"].replace("%h", str(tmp_path)))
    assert argv[0] == f"{tmp_path}/.local/bin/marginwatch"
    args = build_parser().parse_args(argv[1:])
    assert args.command == "watch"
    assert args.alerts_config == f"{tmp_path}/.config/marginwatch/alerts.json"
    assert args.count is None  # runs until stopped


def test_the_unit_restarts_on_failure_but_not_on_bad_input():
    service = unit()["Service"]
    assert service["Restart"] == "on-failure"
    assert service["RestartPreventExitStatus"] == str(EXIT_BAD_INPUT)
    assert service["EnvironmentFile"].startswith("-%h/")  # optional: the keyring may hold the secrets instead
    assert unit()["Install"]["WantedBy"] == "default.target"  # a user unit


def test_the_unit_holds_no_secret():
    text = UNIT.read_text()
    settings = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert not any(line.startswith("Environment=MARGINWATCH_") for line in settings)
