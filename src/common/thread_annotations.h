// Clang's thread-safety annotations (https://clang.llvm.org/docs/ThreadSafetyAnalysis.html), so
// that the compiler checks the locking rules the comments used to state: which mutex guards a
// field (GUARDED_BY), which lock a function needs held (REQUIRES), and which ones it takes and
// gives back (ACQUIRE / RELEASE). With -Wthread-safety (on for every clang build, see the root
// CMakeLists.txt) a read of a guarded field without its mutex is a compile error. Under other
// compilers the macros expand to nothing.
#pragma once

#if defined(__clang__)
#define LAKELOG_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define LAKELOG_THREAD_ANNOTATION(x)
#endif

// On a class: objects of it are a lock (a "capability" named `x` in the diagnostics).
#define CAPABILITY(x) LAKELOG_THREAD_ANNOTATION(capability(x))
// On an RAII class: it holds a capability for its lifetime.
#define SCOPED_CAPABILITY LAKELOG_THREAD_ANNOTATION(scoped_lockable)

// On a field: read and written only with `x` held.
#define GUARDED_BY(x) LAKELOG_THREAD_ANNOTATION(guarded_by(x))
// On a pointer field: the pointee is read and written only with `x` held.
#define PT_GUARDED_BY(x) LAKELOG_THREAD_ANNOTATION(pt_guarded_by(x))

// On a function: its caller holds these (exclusively) / must not hold these.
#define REQUIRES(...) LAKELOG_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define EXCLUSIVE_LOCKS_REQUIRED(...) REQUIRES(__VA_ARGS__)
#define EXCLUDES(...) LAKELOG_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))

// On a function: it takes / gives back these (the object itself when empty).
#define ACQUIRE(...) LAKELOG_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) LAKELOG_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) LAKELOG_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))

// On a function: after it returns, the analysis assumes these are held (it checks at run time).
#define ASSERT_CAPABILITY(x) LAKELOG_THREAD_ANNOTATION(assert_capability(x))

// On a function: it returns a reference to this capability.
#define RETURN_CAPABILITY(x) LAKELOG_THREAD_ANNOTATION(lock_returned(x))

// On a function the analysis cannot follow (a lock handed between threads, or taken in a
// lambda): turns the checks off for its body. Each use says why.
#define NO_THREAD_SAFETY_ANALYSIS LAKELOG_THREAD_ANNOTATION(no_thread_safety_analysis)
