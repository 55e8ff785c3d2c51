/*
 * sockbio.h - an OpenSSL BIO over a non-blocking socket that keeps the
 * connection's edge-triggered readiness flags up to date.
 *
 * OpenSSL's own socket BIO cannot tell us that a read drained the socket,
 * so every SSL_read would end in one more recv() that says EAGAIN.  With
 * read-ahead on, OpenSSL asks for whole buffers; a short read means the
 * socket is empty, and the flag is cleared without that extra syscall.
 */
#ifndef GW_SOCKBIO_H
#define GW_SOCKBIO_H

#include <openssl/bio.h>
#include <stdbool.h>

#include "util.h"

/*
 * A BIO on fd (not closed by the BIO) that clears *rd_ready / *wr_ready
 * when the kernel has nothing more to give or take.  The flags must
 * outlive the BIO.  NULL on allocation failure.  Thread-safe to create.
 */
BIO *sockbio_new(int fd, bool *rd_ready, bool *wr_ready) WUNRES;

#endif
