"""Write precept plugins in Python.

Subclass `Plugin` once in `app.py`, under any name, and override only
what the plugin uses; `precept-build` puts this module beside it:

    from precept_plugin import Plugin, events

    class Hello(Plugin):
        def setup(self):
            events.subscribe("cli_started")

        def on_event(self, event):
            print(f"hello from {event.name}")

Values cross as Python values: None, bool, int, float, str, a list of
those, and anything else JSON can hold (dicts, nested lists) as JSON. An
event handler stops the event by returning True; any exception an export
raises is reported with the plugin's name, and the plugin goes on.
"""

import json
from typing import Any, Dict, List, Optional

import wit_world
from componentize_py_types import Err, Ok
from wit_world.imports import app as _app
from wit_world.imports import capabilities as _capabilities
from wit_world.imports import commands as _commands
from wit_world.imports import config as _config
from wit_world.imports import events as _events
from wit_world.imports import http_types as _http
from wit_world.imports import log as _log
from wit_world.imports import outgoing_handler as _outgoing
from wit_world.imports import services as _services
from wit_world.imports import timers as _timers
from wit_world.imports import types as _types
from wit_world.imports.streams import StreamError_Closed as _Closed

_SCALARS = (type(None), bool, int, float, str)


def _scalar(value) -> Any:
    if value is None:
        return _types.Scalar_Absent()
    if isinstance(value, bool):
        return _types.Scalar_Boolean(value)
    if isinstance(value, int):
        return _types.Scalar_Integer(value)
    if isinstance(value, float):
        return _types.Scalar_Float(value)
    return _types.Scalar_Text(str(value))


def to_value(value) -> Any:
    """A Python value as a WIT `value`."""
    if value is None:
        return _types.Value_Absent()
    if isinstance(value, bool):
        return _types.Value_Boolean(value)
    if isinstance(value, int):
        return _types.Value_Integer(value)
    if isinstance(value, float):
        return _types.Value_Float(value)
    if isinstance(value, str):
        return _types.Value_Text(value)
    if isinstance(value, (list, tuple)) and all(isinstance(v, _SCALARS) for v in value):
        return _types.Value_List([_scalar(v) for v in value])
    return _types.Value_Json(json.dumps(value))


def from_value(value) -> Any:
    """A WIT `value` (or `scalar`) as a Python value."""
    if isinstance(value, (_types.Value_Absent, _types.Scalar_Absent)) or value is None:
        return None
    if isinstance(value, _types.Value_List):
        return [from_value(v) for v in value.value]
    if isinstance(value, _types.Value_Json):
        return json.loads(value.value)
    return value.value


def to_payload(entries: Dict[str, Any]) -> list:
    """A dict as a WIT payload, in the dict's order."""
    return [(name, to_value(value)) for name, value in entries.items()]


def from_payload(payload) -> Dict[str, Any]:
    """A WIT payload as a dict."""
    return {name: from_value(value) for name, value in payload}


class Event:
    """An event as a subscriber receives it: `name`, `payload` (a dict),
    `num` (subscribers before this one) and `timestamp` (µs)."""

    def __init__(self, event):
        self.name: str = event.name
        self.payload: Dict[str, Any] = from_payload(event.payload)
        self.num: int = event.num
        self.timestamp: int = event.timestamp

    def get(self, key: str, default=None) -> Any:
        """The payload's value `key`, or `default`."""
        value = self.payload.get(key)
        return default if value is None else value


def _failing_as_err(method, convert=lambda result: None):
    """`method` with its exceptions turned into an error the host reports."""

    def export(self, *args):
        try:
            return convert(method(self, *args))
        except Err:
            raise
        except Exception as error:  # reported with the plugin's name
            raise Err(str(error) or type(error).__name__)

    return export


class Plugin(wit_world.WitWorld):
    """A precept plugin. Every method has a default: override what the
    plugin uses. `on_event` gets an `Event` and `run_command` a dict of
    arguments."""

    def setup(self) -> None:
        """Called once at load: subscribe, declare commands and services."""

    def on_event(self, event: Event) -> bool:
        """Called for each subscribed event; True stops it here."""
        return False

    def service_setup(self, name: str) -> None:
        """Sets up this plugin's service `name`."""

    def service_start(self, name: str) -> None:
        """Starts this plugin's service `name`."""

    def service_stop(self, name: str) -> None:
        """Stops this plugin's service `name`."""

    def run_command(self, name: str, args: Dict[str, Any]) -> None:
        """Runs this plugin's command `name`."""
        raise Err(f"this plugin has no command {name}")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        own = cls.__dict__
        if "on_event" in own:
            handler = own["on_event"]
            cls.on_event = _failing_as_err(
                lambda self, event: handler(self, Event(event)), lambda stop: bool(stop)
            )
        if "run_command" in own:
            runner = own["run_command"]
            cls.run_command = _failing_as_err(
                lambda self, name, args: runner(self, name, from_payload(args))
            )
        for name in ("setup", "service_setup", "service_start", "service_stop"):
            if name in own:
                setattr(cls, name, _failing_as_err(own[name]))


class events:
    """Subscribing and dispatching."""

    @staticmethod
    def subscribe(*names: str) -> None:
        """Deliver the events `names` to this plugin's `on_event`."""
        for name in names:
            _events.subscribe(name)

    @staticmethod
    def unsubscribe(*names: str) -> None:
        """Stop delivering the events `names`."""
        for name in names:
            _events.unsubscribe(name)

    @staticmethod
    def dispatch(name: str, payload: Optional[Dict[str, Any]] = None, **entries) -> None:
        """Dispatch `name` with `payload` (a dict) and/or keyword entries;
        delivered once the current call returns."""
        _events.dispatch(name, to_payload({**(payload or {}), **entries}))


class log:
    """The application's log, under the plugin's name."""

    @staticmethod
    def trace(message: str) -> None:
        _log.log(_log.Level.TRACE, message)

    @staticmethod
    def debug(message: str) -> None:
        _log.log(_log.Level.DEBUG, message)

    @staticmethod
    def info(message: str) -> None:
        _log.log(_log.Level.INFO, message)

    @staticmethod
    def warn(message: str) -> None:
        _log.log(_log.Level.WARN, message)

    @staticmethod
    def error(message: str) -> None:
        _log.log(_log.Level.ERROR, message)


class _Vars:
    """The application's variables as a mapping: `app.vars["name"]`
    (None when unset), `app.vars["name"] = value`."""

    def __getitem__(self, name: str) -> Any:
        return from_value(_app.get_var(name))

    def __setitem__(self, name: str, value: Any) -> None:
        _app.set_var(name, to_value(value))

    def get(self, name: str, default=None) -> Any:
        value = self[name]
        return default if value is None else value

    def add(self, name: str, delta: int = 1) -> int:
        """Adds `delta` to the integer variable `name` in one step: no
        concurrent addition is lost. Its new value."""
        return _app.add_var(name, delta)

    def append(self, name: str, item: Any) -> int:
        """Appends `item` (a scalar) to the list variable `name` in one
        step. Its new length."""
        return _app.append_var(name, _scalar(item))


class app:
    """The application: name, version, variables."""

    vars = _Vars()

    @staticmethod
    def prog_name() -> str:
        return _app.prog_name()

    @staticmethod
    def version() -> str:
        return _app.version()


class config:
    """The plugin's `[plugin.NAME.config]` section."""

    @staticmethod
    def declare(key: str, help: str, default: Any = None) -> None:
        """Declares `key` with its help and default (setup only)."""
        _config.declare(key, help, to_value(default))

    @staticmethod
    def get(key: str, default: Any = None) -> Any:
        """The value of `key`, else its declared default, else `default`."""
        value = from_value(_config.get(key))
        return default if value is None else value


def _arg(name, help, style, kind=str, short=None, required=False, repeated=False, default=None):
    kinds = {
        str: _commands.ValueKind.TEXT,
        int: _commands.ValueKind.INTEGER,
        float: _commands.ValueKind.FLOAT,
        bool: _commands.ValueKind.BOOLEAN,
    }
    return _commands.ArgSpec(
        name=name,
        help=help,
        style=style,
        kind=kinds[kind],
        short=short,
        required=required,
        repeated=repeated,
        default=None if default is None else str(default),
    )


class commands:
    """Commands this plugin adds (in `setup`), run by `run_command`:

        commands.add("greet", "Greet someone",
                     commands.option("name", "Who", short="n", required=True),
                     commands.flag("loud", "In capitals"))
    """

    @staticmethod
    def add(name: str, help: str, *args) -> None:
        _commands.add_command(_commands.CommandSpec(name=name, help=help, args=list(args)))

    @staticmethod
    def option(name: str, help: str, **fields):
        """`--name VALUE`; `kind` is str, int, float or bool."""
        return _arg(name, help, _commands.ArgStyle.OPTION, **fields)

    @staticmethod
    def flag(name: str, help: str, **fields):
        """`--name`, True when given."""
        return _arg(name, help, _commands.ArgStyle.FLAG, **fields)

    @staticmethod
    def count(name: str, help: str, **fields):
        """`--name`, repeatable: how many times it was given."""
        return _arg(name, help, _commands.ArgStyle.COUNT, **fields)

    @staticmethod
    def positional(name: str, help: str, **fields):
        """A bare value, in declaration order."""
        return _arg(name, help, _commands.ArgStyle.POSITIONAL, **fields)


class services:
    """Services this plugin provides (declared in `setup`)."""

    @staticmethod
    def add(name: str, command: Optional[str] = None) -> None:
        """Declares the service `name`, for every command or only `command`."""
        _services.add_service(name, command)

    @staticmethod
    def is_running(name: str) -> Optional[bool]:
        """Whether the service `name` runs; None when there is none."""
        return _services.is_running(name)


class timers:
    """Events dispatched later. Each call returns the timer's id."""

    @staticmethod
    def after(ms: int, event: str, **payload) -> int:
        """Dispatch `event` once, `ms` milliseconds from now."""
        return _timers.set_timeout(ms, event, to_payload(payload))

    @staticmethod
    def every(ms: int, event: str, **payload) -> int:
        """Dispatch `event` every `ms` milliseconds."""
        return _timers.set_interval(ms, event, to_payload(payload))

    @staticmethod
    def cancel(timer: int) -> None:
        """Ends the timer: it fires no more."""
        _timers.cancel(timer)


class capabilities:
    """What the user granted of what the plugin declares."""

    @staticmethod
    def granted() -> List[Any]:
        """Every grant, as the `capabilities` interface returns them."""
        return _capabilities.granted()

    @staticmethod
    def env(name: str) -> bool:
        """Whether the environment variable `name` was granted."""
        return any(isinstance(g, _capabilities.Grant_Env) and g.value == name for g in _capabilities.granted())

    @staticmethod
    def net(host: str) -> bool:
        """Whether the network host `host` (`host:port`) was granted."""
        return any(isinstance(g, _capabilities.Grant_Net) and g.value == host for g in _capabilities.granted())


class Response:
    """An HTTP response, read to the end: `status`, `headers` (a list of
    `(name, bytes)`), `body` (bytes) and `text` (the body decoded)."""

    def __init__(self, status: int, headers: list, body: bytes):
        self.status = status
        self.headers = headers
        self.body = body
        self.text = body.decode(errors="replace")


class HttpError(Exception):
    """A request that got no response: refused (the host was not granted),
    unreachable, or cut off."""


class http:
    """HTTP requests to the hosts the plugin was granted (`wasi:http`).
    Waiting counts against the call's clock bound."""

    @staticmethod
    def get(url: str, headers: Optional[Dict[str, str]] = None) -> Response:
        """`GET url`."""
        return http.request("GET", url, headers)

    @staticmethod
    def post(url: str, body: bytes, headers: Optional[Dict[str, str]] = None) -> Response:
        """`POST body` to `url`."""
        return http.request("POST", url, headers, body)

    @staticmethod
    def request(method: str, url: str, headers=None, body: bytes = b"") -> Response:
        """Sends a request and reads the whole response; `HttpError` when
        none came. Handles are released child first, as the host requires."""
        scheme, _, rest = url.partition("://")
        if scheme not in ("http", "https") or not rest:
            raise HttpError(f"'{url}' is not an http:// or https:// URL")
        authority, slash, path = rest.partition("/")
        fields = [(k.lower(), v.encode()) for k, v in (headers or {}).items()]
        if body and not any(k == "content-length" for k, _ in fields):
            fields.append(("content-length", str(len(body)).encode()))
        request = _http.OutgoingRequest(_http.Fields.from_list(fields))
        methods = {"GET": _http.Method_Get(), "POST": _http.Method_Post(), "PUT": _http.Method_Put(),
                   "DELETE": _http.Method_Delete(), "HEAD": _http.Method_Head(), "PATCH": _http.Method_Patch()}
        request.set_method(methods.get(method.upper(), _http.Method_Other(method)))
        request.set_scheme(_http.Scheme_Https() if scheme == "https" else _http.Scheme_Http())
        request.set_authority(authority)
        request.set_path_with_query(slash + path if slash else "/")
        outgoing = request.body()
        try:
            pending = _outgoing.handle(request, None)
        except Err as error:
            raise HttpError(http._why(error.value, authority))
        if body:
            with outgoing.write() as stream:
                for start in range(0, len(body), 4096):
                    stream.blocking_write_and_flush(body[start:start + 4096])
        _http.OutgoingBody.finish(outgoing, None)
        with pending:
            with pending.subscribe() as ready:
                ready.block()
            got = pending.get()
        if not isinstance(got, Ok):
            raise HttpError(f"no response from {authority}")
        if isinstance(got.value, Err):
            raise HttpError(http._why(got.value.value, authority))
        received = b""
        with got.value.value as response:
            status = response.status()
            with response.headers() as fields:
                headers = fields.entries()
            with response.consume() as incoming, incoming.stream() as stream:
                while True:
                    try:
                        received += stream.blocking_read(65536)
                    except Err as error:
                        if isinstance(error.value, _Closed):
                            break
                        raise HttpError("the response was cut off")
        return Response(status, headers, received)

    @staticmethod
    def _why(code, authority: str) -> str:
        if isinstance(code, _http.ErrorCode_HttpRequestDenied):
            return f"{authority} was refused: it is not a granted host"
        return f"no response from {authority}: {type(code).__name__.removeprefix('ErrorCode_')}"
