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

/// `uv_idle_t*`, `uv_timer_t*` and `uv_async_t*` are `uv_handle_t*` in C; Swift sees unrelated types.
static inline uv_handle_t *otp_uv_handle(void *handle) { return (uv_handle_t *)handle; }

/// Names the calling thread (shown by top -H, perf, gdb).
static inline void otp_set_thread_name(const char *name) { prctl(PR_SET_NAME, name, 0, 0, 0); }

/// Bytes the allocator actually reserved for `pointer` (for process memory estimates).
static inline size_t otp_malloc_usable_size(void *pointer) { return malloc_usable_size(pointer); }

/// `uv_pipe_t*` is a `uv_stream_t*` in C.
static inline uv_stream_t *otp_uv_stream(void *handle) { return (uv_stream_t *)handle; }

/// The user id of the process at the other end of a Unix socket (SO_PEERCRED), or -1.
static inline long long otp_peer_uid(int fd) {
    struct { int pid; unsigned int uid; unsigned int gid; } credentials;
    socklen_t length = sizeof credentials;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) return -1;
    return credentials.uid;
}

#endif
