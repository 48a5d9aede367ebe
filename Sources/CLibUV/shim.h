// CLibUV: the libuv headers for Swift, plus tiny helpers for what Swift cannot express directly
// (handle up-casts, allocation sizes).
#ifndef SWIFT_OTP_CLIBUV_SHIM_H
#define SWIFT_OTP_CLIBUV_SHIM_H

#include <uv.h>
#include <pthread.h>
#include <stdint.h>
#include <malloc.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>

/// `uv_idle_t*`, `uv_timer_t*` and `uv_async_t*` are `uv_handle_t*` in C; Swift sees unrelated types.
static inline uv_handle_t *otp_uv_handle(void *handle) { return (uv_handle_t *)handle; }

/// Names the calling thread (shown by top -H, perf, gdb).
static inline void otp_set_thread_name(const char *name) { prctl(PR_SET_NAME, name, 0, 0, 0); }

/// Bytes the allocator actually reserved for `pointer` (for process memory estimates).
static inline size_t otp_malloc_usable_size(void *pointer) { return malloc_usable_size(pointer); }

/// Asks the CPU to bring the cache line at `address` into this core's cache for writing (x86 `prefetchw`),
/// without waiting: a channel between two loops readies the slot it writes next while the other core
/// still holds the line (`LoopChannel`). A hint: it never faults and changes no value.
static inline void otp_prefetch_write(const void *address) {
#if defined(__x86_64__)
    // As an instruction: the compiler emits a read prefetch for the builtin unless built for a CPU with PRFCHW
    // (older x86 CPUs without it decode it as a no-op).
    __asm__ volatile("prefetchw %0" : : "m"(*(const char *)address));
#else
    __builtin_prefetch(address, 1, 3);
#endif
}

/// Asks the CPU to bring the cache line at `address` into this core's cache for reading, without waiting.
static inline void otp_prefetch_read(const void *address) { __builtin_prefetch(address, 0, 3); }

/// Tells the CPU this thread is spinning (x86 `pause`, ARM `yield`): the spin reads the watched line less
/// often, and leaves the loop without the pipeline flush a changed line otherwise costs.
static inline void otp_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

/// `uv_pipe_t*` is a `uv_stream_t*` in C.
static inline uv_stream_t *otp_uv_stream(void *handle) { return (uv_stream_t *)handle; }

/// The user id of the process at the other end of a Unix socket (SO_PEERCRED), or -1.
static inline long long otp_peer_uid(int fd) {
    struct { int pid; unsigned int uid; unsigned int gid; } credentials;
    socklen_t length = sizeof credentials;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) return -1;
    return credentials.uid;
}

/// Binds a TCP handle to an IPv4 or IPv6 address given as text ("127.0.0.1", "::1"); 0 or a libuv error.
static inline int otp_tcp_bind(uv_tcp_t *handle, const char *ip, int port) {
    struct sockaddr_storage address;
    int status = uv_ip4_addr(ip, port, (struct sockaddr_in *)&address);
    if (status != 0) status = uv_ip6_addr(ip, port, (struct sockaddr_in6 *)&address);
    if (status != 0) return status;
    return uv_tcp_bind(handle, (const struct sockaddr *)&address, 0);
}

/// Starts connecting a TCP handle to `ip`:`port` (IPv4 or IPv6 text); 0 or a libuv error.
static inline int otp_tcp_connect(uv_connect_t *request, uv_tcp_t *handle, const char *ip, int port, uv_connect_cb callback) {
    struct sockaddr_storage address;
    int status = uv_ip4_addr(ip, port, (struct sockaddr_in *)&address);
    if (status != 0) status = uv_ip6_addr(ip, port, (struct sockaddr_in6 *)&address);
    if (status != 0) return status;
    return uv_tcp_connect(request, handle, (const struct sockaddr *)&address, callback);
}

/// The local port a TCP handle is bound to, or -1.
static inline int otp_tcp_local_port(uv_tcp_t *handle) {
    struct sockaddr_storage address;
    int length = sizeof address;
    if (uv_tcp_getsockname(handle, (struct sockaddr *)&address, &length) != 0) return -1;
    if (address.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&address)->sin_port);
    if (address.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&address)->sin6_port);
    return -1;
}

/// The first address of a getaddrinfo result as text, into `out` (at least 64 bytes); 0 or a libuv error.
static inline int otp_addrinfo_text(const struct addrinfo *info, char *out, size_t size) {
    if (info == NULL) return UV_EAI_NONAME;
    if (info->ai_family == AF_INET) return uv_ip4_name((const struct sockaddr_in *)info->ai_addr, out, size);
    return uv_ip6_name((const struct sockaddr_in6 *)info->ai_addr, out, size);
}

/// What a node's loop is doing, readable from another thread (the slow-turn watchdog) and from a signal
/// handler: how many turns began, and the pid (`PID.rawValue`) of the one running (`UINT64_MAX` between
/// turns). The loop writes it with relaxed atomic stores (plain moves on x86-64 and arm64: no fence, no
/// lock prefix); the watchdog flags a slow turn, the loop reads the flag once per drain.
typedef struct {
    uint64_t turns;
    uint64_t pid;
    /// The turn the watchdog found running past the threshold (0: none), its pid and how long it had run.
    uint64_t flagged;
    uint64_t flaggedPid;
    uint64_t flaggedMillis;
} otp_turn_watch;

static inline void otp_watch_begin(otp_turn_watch *watch, uint64_t pid) {
    __atomic_store_n(&watch->pid, pid, __ATOMIC_RELAXED);
    __atomic_store_n(&watch->turns, __atomic_load_n(&watch->turns, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}
static inline void otp_watch_end(otp_turn_watch *watch) { __atomic_store_n(&watch->pid, UINT64_MAX, __ATOMIC_RELAXED); }
static inline uint64_t otp_watch_turns(const otp_turn_watch *watch) { return __atomic_load_n(&watch->turns, __ATOMIC_RELAXED); }
static inline uint64_t otp_watch_pid(const otp_turn_watch *watch) { return __atomic_load_n(&watch->pid, __ATOMIC_RELAXED); }
/// `flagged` is published last (release) and read first (acquire): its pid and time are then those of that turn.
static inline uint64_t otp_watch_flagged(const otp_turn_watch *watch) { return __atomic_load_n(&watch->flagged, __ATOMIC_ACQUIRE); }
static inline uint64_t otp_watch_flagged_pid(const otp_turn_watch *watch) { return __atomic_load_n(&watch->flaggedPid, __ATOMIC_RELAXED); }
static inline uint64_t otp_watch_flagged_millis(const otp_turn_watch *watch) { return __atomic_load_n(&watch->flaggedMillis, __ATOMIC_RELAXED); }
static inline void otp_watch_flag(otp_turn_watch *watch, uint64_t turn, uint64_t pid, uint64_t millis) {
    __atomic_store_n(&watch->flaggedPid, pid, __ATOMIC_RELAXED);
    __atomic_store_n(&watch->flaggedMillis, millis, __ATOMIC_RELAXED);
    __atomic_store_n(&watch->flagged, turn, __ATOMIC_RELEASE);
}

/// Installs `handler` for `signal` (on the alternate stack), keeping the previous action in `previous`.
static inline int otp_install_fatal_handler(int signal, void (*handler)(int), struct sigaction *previous) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = handler;
    action.sa_flags = SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    return sigaction(signal, &action, previous);
}
/// Puts back the action `previous` for `signal`.
static inline void otp_restore_handler(int signal, const struct sigaction *previous) { sigaction(signal, previous, NULL); }

/// Gives the calling thread an alternate signal stack of `size` bytes unless it has one (kept for the
/// thread's life), so a handler can run after a stack overflow.
static inline void otp_ensure_alternate_stack(size_t size) {
    stack_t current;
    if (sigaltstack(NULL, &current) == 0 && !(current.ss_flags & SS_DISABLE)) return;
    stack_t stack;
    stack.ss_sp = malloc(size);
    stack.ss_flags = 0;
    stack.ss_size = size;
    if (stack.ss_sp != NULL) sigaltstack(&stack, NULL);
}

#endif
