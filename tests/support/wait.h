// Waiting on a condition with a deadline, for tests of asynchronous code
// (Kafka clients, background threads). Not a sleep: returns as soon as the
// condition holds.
#pragma once

#include <chrono>
#include <thread>

#include "stream/time.h"

namespace mozaiek::test {

// Evaluates `pred` until it returns true or `deadline` has passed; returns
// the last result. `pred` may do work itself (poll a consumer, flush).
template <class Pred>
bool wait_until(Pred pred, Millis deadline, Millis interval = Millis{5}) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (true) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= end) return pred();
    std::this_thread::sleep_for(interval);
  }
}

}  // namespace mozaiek::test
