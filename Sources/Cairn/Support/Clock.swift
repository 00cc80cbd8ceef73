#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// The engine's two clocks: wall time for TTLs and $currentDate, monotonic
// time for latencies and waits. (Env.swift routes them for tests.)

/// Milliseconds since the Unix epoch, the clock of TTLs.
func currentTimeMillis() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
}

/// Monotonic nanoseconds, for latencies.
func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}
