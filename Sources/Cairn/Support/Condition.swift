#if canImport(Glibc)
import Glibc
#endif

/// A mutex with a condition variable, for threads that wait for a state
/// change (a group commit's leader, a stalled writer, the background worker).
final class Condition: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        condition = Condition.makeConditionVariable()
    }

    /// A condition variable whose timed waits use the monotonic clock.
    private static func makeConditionVariable() -> UnsafeMutablePointer<pthread_cond_t> {
        let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
        return condition
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }

    @inline(__always)
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }

    /// REQUIRES: locked. Releases the lock while waiting.
    func wait() { pthread_cond_wait(condition, mutex) }

    /// REQUIRES: locked. Waits at most `milliseconds`.
    func wait(milliseconds: Int) {
        var deadline = Condition.deadline(afterNanoseconds: UInt64(max(0, milliseconds)) * 1_000_000)
        pthread_cond_timedwait(condition, mutex, &deadline)
    }

    func broadcast() { pthread_cond_broadcast(condition) }

    /// The monotonic time `nanoseconds` from now, for a timed wait.
    static func deadline(afterNanoseconds nanoseconds: UInt64) -> timespec {
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        let total = Int(deadline.tv_nsec) + Int(nanoseconds % 1_000_000_000)
        deadline.tv_sec += Int(nanoseconds / 1_000_000_000) + total / 1_000_000_000
        deadline.tv_nsec = total % 1_000_000_000
        return deadline
    }

    /// A condition variable of one waiting thread, waited on under a
    /// Condition's mutex: so that a thread can wake one chosen waiter
    /// instead of all of them (the write queue's writers).
    final class Waiter {
        fileprivate let condition = Condition.makeConditionVariable()

        deinit {
            pthread_cond_destroy(condition)
            condition.deallocate()
        }
    }

    /// REQUIRES: locked. Releases the lock while `waiter` waits.
    func wait(_ waiter: Waiter) { pthread_cond_wait(waiter.condition, mutex) }

    /// REQUIRES: locked. Waits until `deadline` (monotonic); false when it passed.
    func wait(_ waiter: Waiter, until deadline: timespec) -> Bool {
        var deadline = deadline
        return pthread_cond_timedwait(waiter.condition, mutex, &deadline) != ETIMEDOUT
    }

    func signal(_ waiter: Waiter) { pthread_cond_signal(waiter.condition) }
}
