/* otp.h: the C API of swift-otp (Sources/OTPCAPI; CMake: find_package(SwiftOTP), target SwiftOTP::OTPCAPI).
 *
 * A node is an opaque pointer. It runs either on a libuv loop of its own (otp_node_create; step it with
 * otp_node_run_once, or poll otp_node_backend_fd / otp_node_backend_timeout from your own event loop), or
 * on your program's uv_loop_t (otp_node_attach: your uv_run runs it, beside your own timers and sockets).
 *
 * Thread: every function must be called on the thread that drives the node ("loop thread"), except
 * otp_post and otp_node_stop, which are thread-safe. Callbacks run on the loop thread.
 *
 * Messages are binaries (bytes + size); the node copies them, so the caller keeps ownership of its
 * buffers, and a buffer handed to a callback is valid only during that callback.
 *
 * Errors are the OTP_* codes below; no function crashes on a bad name, a full mailbox or a dead process.
 */
#ifndef SWIFT_OTP_H
#define SWIFT_OTP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    OTP_OK = 0,
    OTP_UNKNOWN_NAME = 1,  /* no process is registered under the name */
    OTP_MAILBOX_FULL = 2,  /* the target's mailbox is full: nothing was delivered */
    OTP_NAME_TAKEN = 3,    /* the name is registered already */
    OTP_FAILED = 4,        /* anything else (see the node's log) */
    OTP_TIMEOUT = 5,       /* no reply within the timeout; a late reply is dropped */
    OTP_NO_PROCESS = 6,    /* the process is not alive */
    OTP_SERVER_EXITED = 7, /* the server exited before it replied */
    OTP_WRONG_TYPE = 8,    /* the process does not take binaries (a Swift process of another type) */
    OTP_NODE_STOPPED = 9,  /* the node is closed, or closed before the call ended */
    OTP_INVALID = 10       /* an invalid argument: a bad name, a negative timeout, a NULL callback */
};

typedef void otp_node_t;
/* A call waiting for its reply, handed to a process callback; answered once with otp_reply. */
typedef void otp_caller_t;
struct uv_loop_s;

/* Creates a node with its own libuv loop; the calling thread becomes its loop thread. */
otp_node_t *otp_node_create(void);
/* Creates a node on the host's initialised loop: the host's uv_run runs it. The calling thread must be
 * the one that runs `loop`. Detach it with otp_node_detach before closing the loop. */
otp_node_t *otp_node_attach(struct uv_loop_s *loop);
/* Detaches an attached node (every process exits with `shutdown`, its handles close on `loop`) and frees
 * it. Returns 0, or OTP_INVALID for a node that was not attached. Loop thread. */
int32_t otp_node_detach(otp_node_t *node);
/* Closes a node of its own and frees it; returns uv_loop_close's result (0: nothing left open). */
int32_t otp_node_destroy(otp_node_t *node);

/* One iteration of a node's own loop; blocking != 0 waits for work. Returns 1 while work is pending. */
int32_t otp_node_run_once(otp_node_t *node, int32_t blocking);
/* Runs a node's own loop until otp_node_stop. */
void otp_node_run(otp_node_t *node);
/* Makes otp_node_run return. Thread-safe. */
void otp_node_stop(otp_node_t *node);
/* The file descriptor of the node's own loop, to poll for readability from another event loop; step the
 * node with otp_node_run_once(node, 0) when it is readable or the timeout passed. */
int32_t otp_node_backend_fd(otp_node_t *node);
/* Milliseconds until the node's own loop has work due (-1: none, 0: now). */
int32_t otp_node_backend_timeout(otp_node_t *node);

/* Sends a copy of `data` to the process registered as `name`: a process made by otp_register_process,
 * or a Swift process that takes binaries ([UInt8]). Loop thread. OTP_UNKNOWN_NAME, OTP_MAILBOX_FULL,
 * OTP_WRONG_TYPE. */
int32_t otp_send(otp_node_t *node, const char *name, const void *data, size_t size);
/* otp_send from any thread: the send happens on the loop thread soon; its outcome is not reported (it is
 * counted in the node's statistics). OTP_NODE_STOPPED when the node is closed. */
int32_t otp_post(otp_node_t *node, const char *name, const void *data, size_t size);

/* The outcome of otp_call: status (OTP_OK or an error code) and, for OTP_OK, the reply (valid during the
 * callback only). */
typedef void (*otp_reply_cb)(void *context, int32_t status, const void *reply, size_t size);
/* Calls the process registered as `name` (one made by otp_register_process) with a copy of `request`,
 * waiting at most timeout_ms (-1: forever). Returns at once; `done` runs exactly once on the loop thread,
 * with the reply or the error (OTP_UNKNOWN_NAME, OTP_TIMEOUT, OTP_SERVER_EXITED, ...), possibly before
 * otp_call returns for a name nobody holds. Returns OTP_OK, or OTP_INVALID (NULL `done`, negative timeout
 * other than -1; `done` is then not called). Loop thread. */
int32_t otp_call(otp_node_t *node, const char *name, const void *request, size_t size, int64_t timeout_ms,
                 otp_reply_cb done, void *context);

/* A process written in C: `on_message` runs for every message, on the loop thread. `caller` is NULL for
 * a plain message (otp_send, otp_post) and non-NULL for a call (otp_call): answer it exactly once with
 * otp_reply, during the callback or later. */
typedef void (*otp_message_cb)(void *context, otp_node_t *node, const void *data, size_t size,
                               otp_caller_t *caller);
/* Starts a process registered as `name` that hands each message to `on_message`. OTP_NAME_TAKEN,
 * OTP_INVALID. Loop thread. */
int32_t otp_register_process(otp_node_t *node, const char *name, otp_message_cb on_message, void *context);
/* Stops the process registered as `name` (it exits with `normal`; calls waiting on it get
 * OTP_SERVER_EXITED). Loop thread. */
int32_t otp_unregister_process(otp_node_t *node, const char *name);
/* Answers a call with a copy of `reply` and frees `caller`. OTP_NO_PROCESS when the caller gave up (timed
 * out); the caller is freed either way. Loop thread. */
int32_t otp_reply(otp_node_t *node, otp_caller_t *caller, const void *reply, size_t size);

#ifdef __cplusplus
}
#endif

#endif
