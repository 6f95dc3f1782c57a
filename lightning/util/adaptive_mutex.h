// AdaptiveMutex: a std::mutex that spins for a few microseconds before it
// sleeps.
//
// Use it where the holder keeps the lock for a few microseconds and runs on
// another core meanwhile: the LSM's write path holds one across a log append
// and the next across a memtable insert. There, putting a waiter to sleep and waking it
// again costs more than the wait itself (a futex wake and a context switch,
// several microseconds on a virtual machine), so spinning first keeps threads
// running. It never spins on a single core, where the holder cannot make
// progress while a waiter spins. Same guarantees as std::mutex (it is one);
// no fairness.
#pragma once

#include <chrono>
#include <mutex>
#include <thread>

namespace lightning {

class AdaptiveMutex {
 public:
  void lock() {
    if (mu_.try_lock()) return;
    if (spin_) {
      const auto deadline = std::chrono::steady_clock::now() + kSpin;
      for (unsigned i = 1;; i++) {
        Pause();
        if (mu_.try_lock()) return;
        if (i % 32 == 0 && std::chrono::steady_clock::now() >= deadline) break;
      }
    }
    mu_.lock();
  }
  bool try_lock() { return mu_.try_lock(); }
  void unlock() { mu_.unlock(); }

 private:
  // Longer than the write path's usual hold time, far shorter than a
  // scheduler time slice.
  static constexpr std::chrono::microseconds kSpin{20};

  static void Pause() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }

  std::mutex mu_;
  const bool spin_ = std::thread::hardware_concurrency() > 1;
};

}  // namespace lightning
