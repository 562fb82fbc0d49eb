// Readiness for systemd's Type=notify units (packaging/mozaiek.service):
// `mozaiek run` says READY=1 once the service has started and STOPPING=1
// when it begins to shut down. The notification protocol is one datagram
// to the AF_UNIX socket named by $NOTIFY_SOCKET (a path, or an abstract
// name written with a leading '@'), as sd_notify(3) describes; no library
// is needed for it. Without $NOTIFY_SOCKET (not started by systemd) it does
// nothing. Called on the main thread.
#pragma once

#include <string_view>

#include "stream/status.h"

namespace mozaiek {

// Sends `state` (e.g. "READY=1") when $NOTIFY_SOCKET is set. An error names
// what failed; it never stops the service (systemd then times the start out).
[[nodiscard]] Status notify_systemd(std::string_view state);

}  // namespace mozaiek
