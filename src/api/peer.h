/*
 * peer.h - the host-to-host channel of a pool: HTTPS with mutual TLS between the daemons.
 *
 * Identity: each host makes once (the first start with --peer-listen) a private key and a
 * self-signed certificate in STATE_DIR (peer.key mode 0600, peer.crt), and publishes in its
 * host record {"address", "fingerprint" (sha256 of the certificate), "pin" (sha256 of its
 * public key, curl's form), "cert" (PEM)} under "peer".
 * Trust is the pool's host records and nothing else: the server accepts a client whose
 * certificate fingerprint is in a host record of this pool; the client accepts a server
 * whose public key is the pin of the host record it meant to reach.  No CA is involved.
 *
 * Server: an extra libmicrohttpd TLS listener serving only /v1/peer/...; a connection
 * without a client certificate or with a certificate of no pool host is answered 403 and
 * logged.  Routes: GET /v1/peer/ping, GET /v1/peer/images/NAME (the master in the image
 * module's export form, gr_image_export), and the API's /v1/instances routes for calls
 * another host forwarded (api/forward.c; header GR_PEER_FORWARDED), and POST
 * /v1/peer/moves/NAME/{prepare,finish,abort}: the target's part of a live move (control/move.c).
 * Client: gr_peer_get, a blocking GET that presents this host's certificate and pins the
 * peer's key.  Both may be used from any thread.
 */
#ifndef GR_API_PEER_H
#define GR_API_PEER_H

#include <jansson.h>
#include "util/error.h"

struct gr_control;

struct gr_peer_identity {
	char *cert_file, *key_file;   /* STATE_DIR/peer.crt, peer.key */
	char *cert_pem, *key_pem;
	char fingerprint[80];         /* "sha256:<64 hex>" of the certificate (DER) */
	char pin[64];                 /* "sha256//<base64>" of the public key (DER) */
};

/* Load STATE_DIR/peer.{crt,key}, making them first if either is missing or unreadable. */
int gr_peer_identity_load(const char *state_dir, struct gr_peer_identity *id, gr_error_t *err);
void gr_peer_identity_clear(struct gr_peer_identity *id);
/* The "peer" object of the host record (new reference). */
json_t *gr_peer_identity_record(const struct gr_peer_identity *id, const char *address);
/* "sha256:<hex>" of a DER certificate, into out[80]. */
void gr_peer_fingerprint(const void *der, size_t len, char out[80]);

struct gr_peer_server;
struct gr_api;
/* Listen on addr ("IP:PORT") with TLS, asking for the client's certificate.  id must
 * outlive the server.  api (may be NULL): serves the /v1/instances calls other hosts
 * forward (acted on here, never forwarded again). */
int gr_peer_start(const char *addr, const struct gr_peer_identity *id, struct gr_control *c,
		  struct gr_api *api, struct gr_peer_server **out, gr_error_t *err);
void gr_peer_stop(struct gr_peer_server *s);

/* GET https://<peer.address><path> as this host (id), the server pinned by peer.pin, the
 * 200 body written to fd.  Another status: -1 with its message (ENOENT for 404, EACCES for
 * 403, else EIO); a cut or stalled transfer: EIO.  host names the peer in messages. */
int gr_peer_get(const struct gr_peer_identity *id, const char *host, const json_t *peer,
		const char *path, int fd, gr_error_t *err);

/* Forwarded per-instance calls (forward.c) carry this header, the sending host's name as
 * value; the receiver acts on them locally, never forwards them again. */
#define GR_PEER_FORWARDED "X-Gureum-Forwarded"

/* POST /v1/instances to host over the channel (a create placed there: req holds "target"
 * = host and "start"), marked forwarded by from.  0 and *out the instance (201/202); else
 * -1 with the owner's error (its errno by code name; *out the kept instance of a failed
 * launch, if any).  A cut transfer: EIO, the outcome unknown. */
int gr_peer_create(const struct gr_peer_identity *id, const char *from, const char *host,
		   const json_t *peer, json_t *req, json_t **out, gr_error_t *err);
/* POST path (req the JSON body, NULL = {}) to host over the channel, marked forwarded by
 * from: 0 and *out (if out) the 2xx answer; else -1 with the peer's error (its errno by
 * code name); a cut transfer: EIO.  The live moves' calls (POST /v1/peer/moves/...). */
int gr_peer_post(const struct gr_peer_identity *id, const char *from, const char *host, const json_t *peer,
		 const char *path, json_t *req, json_t **out, gr_error_t *err);
/* A CURL * (void * here: this header does not pull in curl) for https://<peer.address>path
 * that presents id's certificate and pins peer.pin; NULL with EHOSTUNREACH when peer has no
 * address.  For forward.c. */
void *gr__peer_curl(const struct gr_peer_identity *id, const char *host, const json_t *peer,
		    const char *path, gr_error_t *err);

#endif
