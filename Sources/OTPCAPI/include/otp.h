/* otp.h: the C API of swift-otp (Sources/OTPCAPI). A node is an opaque pointer.
 * Functions marked "loop thread" must be called on the thread that drives the node. */
#ifndef SWIFT_OTP_H
#define SWIFT_OTP_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { OTP_OK = 0, OTP_UNKNOWN_NAME = 1, OTP_MAILBOX_FULL = 2, OTP_NAME_TAKEN = 3, OTP_FAILED = 4 };

typedef void otp_node_t;

/* Creates a node with its own libuv loop; the calling thread drives it. */
otp_node_t *otp_node_create(void);
/* Closes and frees the node; returns uv_loop_close's result (0: nothing left open). Loop thread. */
int32_t otp_node_destroy(otp_node_t *node);
/* One loop iteration; blocking != 0 waits for work. Returns 1 while work is pending. Loop thread. */
int32_t otp_node_run_once(otp_node_t *node, int32_t blocking);
/* Runs until otp_node_stop. Loop thread. */
void otp_node_run(otp_node_t *node);
/* Makes otp_node_run return. Thread-safe. */
void otp_node_stop(otp_node_t *node);
/* Starts an accumulator server registered as name. Loop thread. */
int32_t otp_spawn_accumulator(otp_node_t *node, const char *name);
/* Adds value to the accumulator registered as name. Loop thread. */
int32_t otp_send_int(otp_node_t *node, const char *name, int64_t value);
/* Same from any thread (outcome not reported). */
int32_t otp_post_int(otp_node_t *node, const char *name, int64_t value);
/* Reads the accumulator's total. Loop thread. */
int32_t otp_accumulator_total(otp_node_t *node, const char *name, int64_t *total);

#ifdef __cplusplus
}
#endif

#endif
