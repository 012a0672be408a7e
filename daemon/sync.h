// Mutex with Clang thread-safety annotations. libstdc++'s std::mutex is not
// annotated, so `-Wthread-safety` needs this wrapper (LevelDB port::Mutex).
// Guarded members are declared `T x_ XRAY_GUARDED_BY(mu_);`.
#pragma once

#include <mutex>

#if defined(__clang__)
#define XRAY_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define XRAY_THREAD_ANNOTATION(x)
#endif

#define XRAY_CAPABILITY(x) XRAY_THREAD_ANNOTATION(capability(x))
#define XRAY_SCOPED_CAPABILITY XRAY_THREAD_ANNOTATION(scoped_lockable)
#define XRAY_GUARDED_BY(x) XRAY_THREAD_ANNOTATION(guarded_by(x))
#define XRAY_REQUIRES(...) XRAY_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define XRAY_ACQUIRE(...) XRAY_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define XRAY_RELEASE(...) XRAY_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define XRAY_EXCLUDES(...) XRAY_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))

namespace xrayd {

class XRAY_CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;
  void lock() XRAY_ACQUIRE() { mu_.lock(); }
  void unlock() XRAY_RELEASE() { mu_.unlock(); }
  std::mutex& native() { return mu_; }

 private:
  std::mutex mu_;
};

class XRAY_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) XRAY_ACQUIRE(mu) : mu_(mu) { mu_.lock(); }
  ~MutexLock() XRAY_RELEASE() { mu_.unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mu_;
};

}  // namespace xrayd
