/*
 * peer_ident.c - this host's identity on the peer channel (peer.h): an ECDSA P-256 key and
 * a self-signed certificate made once with GnuTLS in STATE_DIR, their fingerprint and pin.
 * Every host's certificate carries the same subject (CN=gureum-peer): it names the role,
 * not the host, because a host is known by its fingerprint in the pool's records, and a
 * GnuTLS client sends its certificate only when the issuer matches a name the server asked
 * for (the server's own certificate, which has that same name).
 */
#include "api/peer.h"

#include <errno.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "util/alloc.h"
#include "util/fs.h"
#include "util/log.h"

void gr_peer_fingerprint(const void *der, size_t len, char out[80])
{
	unsigned char d[32];
	static const char hx[] = "0123456789abcdef";
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, der, len, d) < 0) {
		snprintf(out, 80, "sha256:?");
		return;
	}
	memcpy(out, "sha256:", 7);
	for (int i = 0; i < 32; i++) {
		out[7 + 2 * i] = hx[d[i] >> 4];
		out[8 + 2 * i] = hx[d[i] & 15];
	}
	out[7 + 64] = '\0';
}

static int tls_fail(gr_error_t *err, int r, const char *what)
{
	return gr_error_set(err, EIO, "peer certificate: %s: %s", what, gnutls_strerror(r));
}

/* A new key and certificate, PEM, into *key_pem and *cert_pem. */
static int make_identity(char **key_pem, char **cert_pem, gr_error_t *err)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t kd = { 0 }, cd = { 0 };
	int r, rc = -1;
	if ((r = gnutls_x509_privkey_init(&key)) < 0 ||
	    (r = gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
					      GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0)) < 0) {
		tls_fail(err, r, "generating the key");
		goto out;
	}
	unsigned char serial[16];
	if ((r = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof serial)) < 0) {
		tls_fail(err, r, "serial");
		goto out;
	}
	serial[0] &= 0x7f; /* a positive number */
	time_t now = time(NULL);
	const char *bad = NULL;
	if ((r = gnutls_x509_crt_init(&crt)) < 0 || (r = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
	    (r = gnutls_x509_crt_set_serial(crt, serial, sizeof serial)) < 0 ||
	    (r = gnutls_x509_crt_set_activation_time(crt, now - 3600)) < 0 ||
	    (r = gnutls_x509_crt_set_expiration_time(crt, now + 20 * 365 * 86400L)) < 0 ||
	    (r = gnutls_x509_crt_set_dn(crt, "CN=gureum-peer", &bad)) < 0 ||
	    (r = gnutls_x509_crt_set_key(crt, key)) < 0 ||
	    (r = gnutls_x509_crt_set_basic_constraints(crt, 1, -1)) < 0 ||
	    (r = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE | GNUTLS_KEY_KEY_CERT_SIGN)) < 0 ||
	    (r = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0 ||
	    (r = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_CLIENT, 0)) < 0 ||
	    (r = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0)) < 0) {
		tls_fail(err, r, "making the certificate");
		goto out;
	}
	if ((r = gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &kd)) < 0 ||
	    (r = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &cd)) < 0) {
		tls_fail(err, r, "exporting");
		goto out;
	}
	*key_pem = xstrndup((const char *)kd.data, kd.size);
	*cert_pem = xstrndup((const char *)cd.data, cd.size);
	rc = 0;
out:
	gnutls_free(kd.data);
	gnutls_free(cd.data);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	if (key)
		gnutls_x509_privkey_deinit(key);
	return rc;
}

/* Fingerprint and pin of cert_pem (and a check that key_pem is its key). */
static int describe(struct gr_peer_identity *id, gr_error_t *err)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t der = { 0 }, spki = { 0 }, b64 = { 0 };
	gnutls_datum_t pem = { (unsigned char *)id->cert_pem, (unsigned)strlen(id->cert_pem) };
	int r, rc = -1;
	if ((r = gnutls_x509_crt_init(&crt)) < 0 || (r = gnutls_x509_crt_import(crt, &pem, GNUTLS_X509_FMT_PEM)) < 0 ||
	    (r = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der)) < 0 ||
	    (r = gnutls_pubkey_init(&pub)) < 0 || (r = gnutls_pubkey_import_x509(pub, crt, 0)) < 0 ||
	    (r = gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &spki)) < 0) {
		tls_fail(err, r, id->cert_file);
		goto out;
	}
	gr_peer_fingerprint(der.data, der.size, id->fingerprint);
	unsigned char d[32];
	gnutls_hash_fast(GNUTLS_DIG_SHA256, spki.data, spki.size, d);
	gnutls_datum_t dd = { d, sizeof d };
	if ((r = gnutls_base64_encode2(&dd, &b64)) < 0) {
		tls_fail(err, r, "pin");
		goto out;
	}
	snprintf(id->pin, sizeof id->pin, "sha256//%.*s", (int)b64.size, b64.data);
	/* the key must be this certificate's: a key/cert pair from two runs is remade */
	gnutls_certificate_credentials_t cred;
	gnutls_certificate_allocate_credentials(&cred);
	gnutls_datum_t kp = { (unsigned char *)id->key_pem, (unsigned)strlen(id->key_pem) };
	r = gnutls_certificate_set_x509_key_mem(cred, &pem, &kp, GNUTLS_X509_FMT_PEM);
	gnutls_certificate_free_credentials(cred);
	if (r < 0) {
		tls_fail(err, r, "key and certificate do not match");
		goto out;
	}
	rc = 0;
out:
	gnutls_free(der.data);
	gnutls_free(spki.data);
	gnutls_free(b64.data);
	if (pub)
		gnutls_pubkey_deinit(pub);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	return rc;
}

int gr_peer_identity_load(const char *state_dir, struct gr_peer_identity *id, gr_error_t *err)
{
	memset(id, 0, sizeof *id);
	id->cert_file = xasprintf("%s/peer.crt", state_dir);
	id->key_file = xasprintf("%s/peer.key", state_dir);
	if (gr_read_file(id->key_file, 1 << 16, &id->key_pem, NULL, NULL) == 0 &&
	    gr_read_file(id->cert_file, 1 << 16, &id->cert_pem, NULL, NULL) == 0 && describe(id, NULL) == 0)
		return 0;
	free(id->key_pem);
	free(id->cert_pem);
	id->key_pem = id->cert_pem = NULL;
	if (gr_mkdir_p(state_dir, 0700, err) < 0 || make_identity(&id->key_pem, &id->cert_pem, err) < 0)
		goto fail;
	/* the key first: a crash in between leaves a key without certificate, remade next time */
	if (gr_write_file_atomic(id->key_file, id->key_pem, strlen(id->key_pem), 0600, err) < 0 ||
	    gr_write_file_atomic(id->cert_file, id->cert_pem, strlen(id->cert_pem), 0644, err) < 0 ||
	    describe(id, err) < 0)
		goto fail;
	gr_log_info("peer: made this host's key and certificate (%s, fingerprint %s)", id->cert_file,
		    id->fingerprint);
	return 0;
fail:
	gr_peer_identity_clear(id);
	return -1;
}

void gr_peer_identity_clear(struct gr_peer_identity *id)
{
	free(id->cert_file);
	free(id->key_file);
	free(id->cert_pem);
	if (id->key_pem)
		explicit_bzero(id->key_pem, strlen(id->key_pem));
	free(id->key_pem);
	memset(id, 0, sizeof *id);
}

json_t *gr_peer_identity_record(const struct gr_peer_identity *id, const char *address)
{
	return json_pack("{s:s,s:s,s:s,s:s}", "address", address, "fingerprint", id->fingerprint, "pin",
			 id->pin, "cert", id->cert_pem);
}
