"""The MoonBoard LED controller's Bluetooth message for a route (the protocol the MoonBoard app speaks).

The controller is a Nordic UART service (6e400001-b5a3-f393-e0a9-e50e24dcca9e); the app writes
`l#S12,P34,E56#` to its RX characteristic (6e400002-...) in chunks of at most 20 bytes (the default BLE MTU
payload). S / P / E light a hold green (start), blue (middle) or red (end). A hold's number is its place on the
LED strip, which snakes through the board: up column A from A1 (0) to A18 (17), down column B from B18 (18)
to B1 (35), up column C, and so on. static/codec.js mirrors this for the browser's Web Bluetooth.
"""

from __future__ import annotations

from routegen.board import ROWS, Hold
from routegen.route import Route

SERVICE_UUID = "6e400001-b5a3-f393-e0a9-e50e24dcca9e"
RX_UUID = "6e400002-b5a3-f393-e0a9-e50e24dcca9e"
CHUNK = 20  # bytes per GATT write without a negotiated larger MTU
LETTER = {"start": "S", "middle": "P", "end": "E"}


def led_number(hold: Hold) -> int:
    """The hold's position on the serpentine LED strip (A1 = 0, A18 = 17, B18 = 18, B1 = 35, C1 = 36, ...)."""
    offset = hold.row - 1 if hold.col % 2 == 0 else ROWS - hold.row
    return hold.col * ROWS + offset


def hold_of_led(number: int) -> Hold:
    col, offset = divmod(number, ROWS)
    return Hold(col, offset + 1 if col % 2 == 0 else ROWS - offset)


def encode(route: Route) -> str:
    """`l#S4,P93,E169#`: the route's holds, starts first, then middle, then end holds."""
    return "l#" + ",".join(f"{LETTER[role]}{led_number(h)}" for role, h in route.roles()) + "#"


def chunks(message: str, size: int = CHUNK) -> list[bytes]:
    data = message.encode("ascii")
    return [data[i : i + size] for i in range(0, len(data), size)]
