"""Guest logs: per plugin, into Python logging or a callback, with the level the guest sees
through get_log_level following the configured level.  The `log` export of the C test plugin
logs "<level>: <input>" at every level it is allowed to (c-pdk gating) and outputs how many
messages it sent."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap

import pytest

import extism_native as extism
from conftest import wasm, wasm_path


def sent(plugin, text="hi"):
    return int(plugin.call("log", text))


def test_default_logger_is_named_after_the_plugin_and_follows_its_level(caplog):
    logger = logging.getLogger("extism_native.plugin.kitchen")
    with extism.Plugin(wasm_path("kitchen")) as plugin:
        with caplog.at_level(logging.DEBUG, logger=logger.name):
            assert sent(plugin) == 4  # debug, info, warn, error
        assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [
            (logger.name, logging.DEBUG, "debug: hi"),
            (logger.name, logging.INFO, "info: hi"),
            (logger.name, logging.WARNING, "warn: hi"),
            (logger.name, logging.ERROR, "error: hi"),
        ]
        caplog.clear()
        with caplog.at_level(logging.ERROR, logger=logger.name):
            assert sent(plugin) == 1  # the next call already sees the new level
        assert [r.getMessage() for r in caplog.records] == ["error: hi"]
        with caplog.at_level(extism._logging.TRACE, logger=logger.name):
            assert sent(plugin) == 5
        logger.disabled = True
        try:
            assert sent(plugin) == 0
        finally:
            logger.disabled = False


def test_explicit_logger_and_level(caplog):
    logger = logging.getLogger("my.app.plugins")
    with extism.Plugin(wasm("kitchen"), logger=logger, log_level="warn") as plugin:
        with caplog.at_level(logging.DEBUG, logger="my.app.plugins"):
            assert sent(plugin, "x") == 2
        assert [r.getMessage() for r in caplog.records] == ["warn: x", "error: x"]


def test_callable_sink():
    lines = []
    with extism.Plugin(wasm("kitchen"), logger=lambda lvl, msg: lines.append((lvl, msg)),
                       log_level="trace") as plugin:
        assert sent(plugin, "é") == 5
    assert lines == [("trace", "trace: é"), ("debug", "debug: é"), ("info", "info: é"),
                     ("warn", "warn: é"), ("error", "error: é")]


def test_callable_sink_defaults_to_info():
    lines = []
    with extism.Plugin(wasm("kitchen"), logger=lambda lvl, msg: lines.append(lvl)) as plugin:
        assert sent(plugin) == 3
    assert lines == ["info", "warn", "error"]


@pytest.mark.parametrize("level, expected", [("trace", 5), ("debug", 4), ("info", 3),
                                             ("warn", 2), ("warning", 2), ("error", 1),
                                             ("off", 0), (logging.DEBUG, 4), (45, 0)])
def test_log_levels(level, expected):
    with extism.Plugin(wasm("kitchen"), logger=lambda lvl, msg: None,
                       log_level=level) as plugin:
        assert sent(plugin) == expected


def test_a_raising_sink_stops_the_guest_and_is_raised_again():
    class Boom(Exception):
        pass

    def sink(level, message):
        raise Boom(message)

    with extism.Plugin(wasm("kitchen"), logger=sink, log_level="error") as plugin:
        with pytest.raises(Boom, match="error: x") as info:
            plugin.call("log", "x")
        assert isinstance(info.value.__cause__, extism.HostFunctionError)
        assert "calling 'log'" in str(info.value.__cause__)
        assert plugin.call("echo", "still works") == b"still works"


def test_keyboard_interrupt_in_a_sink_propagates():
    def sink(level, message):
        raise KeyboardInterrupt

    with extism.Plugin(wasm("kitchen"), logger=sink, log_level="error") as plugin:
        with pytest.raises(KeyboardInterrupt):
            plugin.call("log", "x")


def test_a_sink_calling_back_into_its_plugin_gets_a_clear_error():
    errors = []

    def sink(level, message):
        try:
            plugin.call("echo", "again")
        except extism.UsageError as exc:
            errors.append(str(exc))

    plugin = extism.Plugin(wasm("kitchen"), logger=sink, log_level="error")
    assert sent(plugin) == 1
    assert len(errors) == 1 and "re-entrant call" in errors[0]
    plugin.close()


def run_isolated(code: str) -> str:
    """Process-wide log settings can only be made once: try them in a fresh interpreter."""
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(wasm_path('kitchen').parent.parent.parent)!r})
        from conftest import wasm
        import extism_native as extism
    """) + textwrap.dedent(code)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_set_log_file(tmp_path):
    log = tmp_path / "guest.log"
    run_isolated(f"""
        extism.set_log_file({str(log)!r}, "info")
        p = extism.Plugin(wasm("kitchen"))
        assert p.call("log", "hello") == b"3", p.call("log", "hello")
    """)
    lines = log.read_text().splitlines()
    assert len(lines) == 3
    assert "INFO extism::pdk: info: hello plugin=" in lines[0]
    assert "ERROR extism::pdk: error: hello" in lines[2]


def test_set_log_custom_and_drain():
    out = run_isolated("""
        got = []
        logger = extism.set_log_custom(got.append, "warn")
        p = extism.Plugin(wasm("kitchen"))
        p.call("log", "a")
        p.call("log", "b")
        logger.drain()
        print(len(got))
        assert all(line.endswith("\\n") for line in got)  # as libextism's lines
        print("".join(got), end="")
        logger.drain()
        print(len(got))
    """)
    lines = out.splitlines()
    assert lines[0] == "4"
    assert "WARN extism::pdk: warn: a" in lines[1]
    assert "ERROR extism::pdk: error: b" in lines[4]
    assert lines[5] == "4"


def test_bad_global_settings():
    with pytest.raises(ValueError):
        extism.set_log_file("stderr", "loud")
    with pytest.raises(OSError):
        extism.set_log_file("/nonexistent-dir/x.log", "info")
