/*
 * jwt.c: ID tokens checked with libcrypto.  The key set becomes OpenSSL
 * public keys once (EVP_PKEY_fromdata); a token is split, its header read
 * and its alg refused unless RS256 or ES256 before any key is looked at,
 * then the signature is checked with EVP_DigestVerify over SHA-256.  The
 * token's header never chooses a key by URL or carries one (jku, x5u, jwk
 * are ignored): only the provider's key set counts.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "jwt.h"
#include "session.h"

#define JWT_MAX_LEN 16384       /* longer tokens are refused unread */
#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 8192
#define P256_LEN 32             /* bytes of a coordinate, and of r and s */
#define SUB_MAX 255             /* OpenID Connect Core 1.0, 2: sub */
#define TID_MAX 64

enum key_type { KEY_RSA, KEY_EC };

struct jwk {
	char *kid;                  /* NULL when the key has none */
	enum key_type type;
	EVP_PKEY *pkey;
};

struct jwks {
	struct jwk *keys;
	size_t n;
};

static int b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* Strict base64url (RFC 7515, 2): the alphabet only, no padding, no length
 * that no byte string has, no stray bits in the last character.  A malloc'd
 * buffer (one spare NUL byte after *outlen bytes) or NULL. */
static unsigned char *b64url_decode(const char *s, size_t n, size_t *outlen)
{
	unsigned char *out;
	unsigned v = 0;
	size_t i, o = 0;
	int bits = 0;

	if (n % 4 == 1)
		return NULL;
	out = malloc(n / 4 * 3 + 3);
	if (out == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		int d = b64url_value((unsigned char)s[i]);
		if (d < 0) {
			free(out);
			return NULL;
		}
		v = (v << 6 | (unsigned)d) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(v >> bits);
		}
	}
	if ((v & ((1u << bits) - 1)) != 0) {
		free(out);
		return NULL;
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

/* A JSON object from exactly len bytes, or NULL. */
static struct json_object *json_object_from(const char *s, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;

	if (tok == NULL || len > INT_MAX) {
		json_tokener_free(tok);
		return NULL;
	}
	o = json_tokener_parse_ex(tok, s, (int)len);
	if (o != NULL && (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len || !json_object_is_type(o, json_type_object))) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* The string in v, or NULL when v is not a string or holds a NUL byte
 * (which would make it compare equal to its prefix). */
static const char *json_str(struct json_object *v)
{
	const char *s;

	if (!json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	return strlen(s) == (size_t)json_object_get_string_len(v) ? s : NULL;
}

/* The string member name of o (as json_str), or NULL. */
static const char *member_str(struct json_object *o, const char *name)
{
	struct json_object *v;

	return json_object_object_get_ex(o, name, &v) ? json_str(v) : NULL;
}

/* The base64url member name of o decoded (malloc'd), or NULL. */
static unsigned char *member_b64(struct json_object *o, const char *name, size_t *len)
{
	const char *s = member_str(o, name);

	return s == NULL ? NULL : b64url_decode(s, strlen(s), len);
}

/* A public key from its OSSL_PARAMs, checked (EVP_PKEY_public_check: the EC
 * point on the curve, the RSA modulus and exponent odd).  NULL on failure. */
static EVP_PKEY *pkey_from(const char *type, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY_CTX *check = NULL;
	EVP_PKEY *pkey = NULL;

	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		goto done;
	check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	if (check == NULL || EVP_PKEY_public_check(check) != 1) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
done:
	EVP_PKEY_CTX_free(check);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pkey;
}

static EVP_PKEY *rsa_key(struct json_object *k)
{
	size_t nlen, elen;
	unsigned char *n = member_b64(k, "n", &nlen);
	unsigned char *e = member_b64(k, "e", &elen);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	BIGNUM *bn_n = NULL, *bn_e = NULL;
	EVP_PKEY *pkey = NULL;

	if (n == NULL || e == NULL || bld == NULL || nlen > RSA_MAX_BITS / 8 || elen > 8)
		goto done;
	bn_n = BN_bin2bn(n, (int)nlen, NULL);
	bn_e = BN_bin2bn(e, (int)elen, NULL);
	if (bn_n == NULL || bn_e == NULL || BN_num_bits(bn_n) < RSA_MIN_BITS ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) != 1)
		goto done;
	pkey = pkey_from("RSA", bld);
done:
	BN_free(bn_n);
	BN_free(bn_e);
	OSSL_PARAM_BLD_free(bld);
	free(n);
	free(e);
	return pkey;
}

static EVP_PKEY *ec_key(struct json_object *k)
{
	const char *crv = member_str(k, "crv");
	size_t xlen = 0, ylen = 0;
	unsigned char *x = member_b64(k, "x", &xlen);
	unsigned char *y = member_b64(k, "y", &ylen);
	unsigned char point[1 + 2 * P256_LEN];
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY *pkey = NULL;

	if (crv == NULL || strcmp(crv, "P-256") != 0 || x == NULL || y == NULL ||
	    xlen != P256_LEN || ylen != P256_LEN || bld == NULL)
		goto done;
	point[0] = 0x04;        /* uncompressed: x then y */
	memcpy(point + 1, x, P256_LEN);
	memcpy(point + 1 + P256_LEN, y, P256_LEN);
	if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)) != 1)
		goto done;
	pkey = pkey_from("EC", bld);
done:
	OSSL_PARAM_BLD_free(bld);
	free(x);
	free(y);
	return pkey;
}

/* 1 when a key's optional "key_ops" allows "verify". */
static int key_ops_verify(struct json_object *k)
{
	struct json_object *ops;
	size_t i;

	if (!json_object_object_get_ex(k, "key_ops", &ops))
		return 1;
	if (!json_object_is_type(ops, json_type_array))
		return 0;
	for (i = 0; i < json_object_array_length(ops); i++) {
		const char *op = json_str(json_object_array_get_idx(ops, i));
		if (op != NULL && strcmp(op, "verify") == 0)
			return 1;
	}
	return 0;
}

/* Add key k to the set when it is usable; 0, or -1 when out of memory. */
static int jwks_add(struct jwks *set, struct json_object *k)
{
	const char *kty = member_str(k, "kty");
	const char *use = member_str(k, "use");
	const char *alg = member_str(k, "alg");
	struct json_object *v;
	struct jwk key = { NULL, KEY_RSA, NULL };
	struct jwk *grown;

	if (kty == NULL || (json_object_object_get_ex(k, "use", &v) &&
	    (use == NULL || strcmp(use, "sig") != 0)) || !key_ops_verify(k))
		return 0;
	if (json_object_object_get_ex(k, "alg", &v) && alg == NULL)
		return 0;
	if (strcmp(kty, "RSA") == 0 && (alg == NULL || strcmp(alg, "RS256") == 0)) {
		key.type = KEY_RSA;
		key.pkey = rsa_key(k);
	} else if (strcmp(kty, "EC") == 0 && (alg == NULL || strcmp(alg, "ES256") == 0)) {
		key.type = KEY_EC;
		key.pkey = ec_key(k);
	}
	if (key.pkey == NULL)
		return 0;
	if (json_object_object_get_ex(k, "kid", &v)) {
		const char *kid = json_str(v);
		if (kid == NULL || (key.kid = strdup(kid)) == NULL) {
			EVP_PKEY_free(key.pkey);
			return kid == NULL ? 0 : -1;
		}
	}
	grown = realloc(set->keys, (set->n + 1) * sizeof(*grown));
	if (grown == NULL) {
		free(key.kid);
		EVP_PKEY_free(key.pkey);
		return -1;
	}
	set->keys = grown;
	set->keys[set->n++] = key;
	return 0;
}

struct jwks *jwks_parse(const char *json, size_t len, char *err, size_t errlen)
{
	struct json_object *doc = json_object_from(json, len);
	struct json_object *keys;
	struct jwks *set;
	size_t i;

	if (doc == NULL || !json_object_object_get_ex(doc, "keys", &keys) ||
	    !json_object_is_type(keys, json_type_array)) {
		snprintf(err, errlen, "The key set is not a JSON object with a \"keys\" array.");
		json_object_put(doc);
		return NULL;
	}
	set = calloc(1, sizeof(*set));
	if (set == NULL) {
		snprintf(err, errlen, "Out of memory reading the key set.");
		json_object_put(doc);
		return NULL;
	}
	for (i = 0; i < json_object_array_length(keys); i++) {
		struct json_object *k = json_object_array_get_idx(keys, i);
		if (json_object_is_type(k, json_type_object) && jwks_add(set, k) != 0) {
			snprintf(err, errlen, "Out of memory reading the key set.");
			jwks_free(set);
			json_object_put(doc);
			return NULL;
		}
	}
	json_object_put(doc);
	if (set->n == 0) {
		snprintf(err, errlen, "The key set holds no usable signing key "
		    "(RSA of 2048 bits or more, or EC P-256).");
		jwks_free(set);
		return NULL;
	}
	return set;
}

void jwks_free(struct jwks *k)
{
	size_t i;

	if (k == NULL)
		return;
	for (i = 0; i < k->n; i++) {
		free(k->keys[i].kid);
		EVP_PKEY_free(k->keys[i].pkey);
	}
	free(k->keys);
	free(k);
}

size_t jwks_count(const struct jwks *k)
{
	return k == NULL ? 0 : k->n;
}

/* The JOSE ES256 signature (r then s, 32 bytes each) as the DER
 * ECDSA-Sig-Value libcrypto verifies (malloc'd by OpenSSL), or NULL. */
static unsigned char *es256_der(const unsigned char *sig, size_t *derlen)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, P256_LEN, NULL);
	BIGNUM *s = BN_bin2bn(sig + P256_LEN, P256_LEN, NULL);
	unsigned char *der = NULL;
	int n;

	if (es == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(es);
		return NULL;
	}
	n = i2d_ECDSA_SIG(es, &der);
	ECDSA_SIG_free(es);
	if (n <= 0)
		return NULL;
	*derlen = (size_t)n;
	return der;
}

/* 1 when sig is pkey's signature over data with SHA-256 (PKCS #1 v1.5 for
 * RSA, DER ECDSA for EC). */
static int signature_ok(EVP_PKEY *pkey, enum key_type type, const char *data, size_t len,
    const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int ok = 0;

	if (md != NULL && EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, pkey) == 1 &&
	    (type != KEY_RSA || EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1))
		ok = EVP_DigestVerify(md, sig, siglen, (const unsigned char *)data, len) == 1;
	EVP_MD_CTX_free(md);
	return ok;
}

/* 1 when key k may have signed a token of this type and kid (a token
 * without kid: any key of the type). */
static int key_fits(const struct jwk *k, enum key_type type, const char *kid)
{
	return k->type == type && (kid == NULL || (k->kid != NULL && strcmp(k->kid, kid) == 0));
}

enum jwt_status jwt_verify(const char *token, const struct jwks *keys,
    struct json_object **claims, char *err, size_t errlen)
{
	const char *dot1, *dot2, *alg, *kid;
	size_t len, hlen, plen, slen, derlen = 0, i, fitting = 0;
	unsigned char *hdr = NULL, *payload = NULL, *sig = NULL, *der = NULL;
	struct json_object *header = NULL, *v;
	enum key_type type;
	enum jwt_status st = JWT_MALFORMED;

	*claims = NULL;
	if (token == NULL || (len = strnlen(token, JWT_MAX_LEN + 1)) > JWT_MAX_LEN) {
		snprintf(err, errlen, "The token is missing or longer than %d bytes.", JWT_MAX_LEN);
		return JWT_MALFORMED;
	}
	dot1 = memchr(token, '.', len);
	dot2 = dot1 == NULL ? NULL : memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token));
	if (dot2 == NULL || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) != NULL ||
	    dot1 == token || dot2 == dot1 + 1) {
		snprintf(err, errlen, "The token is not three base64url parts joined by dots.");
		return JWT_MALFORMED;
	}
	hdr = b64url_decode(token, (size_t)(dot1 - token), &hlen);
	if (hdr == NULL || (header = json_object_from((const char *)hdr, hlen)) == NULL) {
		snprintf(err, errlen, "The token's header is not base64url-encoded JSON.");
		goto done;
	}
	alg = member_str(header, "alg");
	if (alg == NULL || (strcmp(alg, "RS256") != 0 && strcmp(alg, "ES256") != 0)) {
		snprintf(err, errlen, "The token's algorithm is refused "
		    "(only RS256 and ES256 are accepted).");
		st = JWT_ALG_REFUSED;
		goto done;
	}
	type = strcmp(alg, "RS256") == 0 ? KEY_RSA : KEY_EC;
	if (json_object_object_get_ex(header, "crit", &v)) {
		snprintf(err, errlen, "The token's header has critical extensions (crit).");
		goto done;
	}
	kid = NULL;
	if (json_object_object_get_ex(header, "kid", &v) && (kid = json_str(v)) == NULL) {
		snprintf(err, errlen, "The token's key id (kid) is not a string.");
		goto done;
	}
	payload = b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), &plen);
	sig = b64url_decode(dot2 + 1, len - (size_t)(dot2 + 1 - token), &slen);
	if (payload == NULL || sig == NULL) {
		snprintf(err, errlen, "The token's payload or signature is not base64url.");
		goto done;
	}
	for (i = 0; keys != NULL && i < keys->n; i++)
		fitting += key_fits(&keys->keys[i], type, kid);
	if (fitting == 0) {
		snprintf(err, errlen, "The provider's key set has no %s key%s.",
		    type == KEY_RSA ? "RSA" : "EC P-256", kid != NULL ? " with the token's key id" : "");
		st = JWT_UNKNOWN_KID;
		goto done;
	}
	st = JWT_BAD_SIGNATURE;
	if (type == KEY_EC && (slen != 2 * P256_LEN || (der = es256_der(sig, &derlen)) == NULL)) {
		snprintf(err, errlen, "The token's ES256 signature is not 64 bytes (r and s).");
		goto done;
	}
	for (i = 0; i < keys->n && st != JWT_OK; i++)
		if (key_fits(&keys->keys[i], type, kid) &&
		    signature_ok(keys->keys[i].pkey, type, token, (size_t)(dot2 - token),
		    der != NULL ? der : sig, der != NULL ? derlen : slen))
			st = JWT_OK;
	if (st != JWT_OK) {
		snprintf(err, errlen, "The token's signature does not match the provider's key.");
		goto done;
	}
	*claims = json_object_from((const char *)payload, plen);
	if (*claims == NULL) {
		snprintf(err, errlen, "The token's payload is not a JSON object.");
		st = JWT_MALFORMED;
	}
done:
	json_object_put(header);
	OPENSSL_free(der);
	free(hdr);
	free(payload);
	free(sig);
	return st;
}

/* A time claim as whole seconds: 1, 0 when absent, -1 when not a number
 * (a fraction is cut off). */
static int claim_time(struct json_object *c, const char *name, long long *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(c, name, &v))
		return 0;
	if (json_object_is_type(v, json_type_int)) {
		*out = (long long)json_object_get_int64(v);
		return 1;
	}
	if (json_object_is_type(v, json_type_double)) {
		double d = json_object_get_double(v);
		if (!isfinite(d) || d < -9e15 || d > 9e15)
			return -1;
		*out = (long long)floor(d);
		return 1;
	}
	return -1;
}

/* 1 when tid is a plain tenant id: letters, digits, '-' and '_'. */
static int tid_plain(const char *tid)
{
	size_t i;

	for (i = 0; tid[i] != '\0'; i++) {
		char c = tid[i];
		if (i >= TID_MAX || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
	}
	return i > 0;
}

/* iss against the expected issuer, "{tenantid}" replaced by tid. */
static int issuer_ok(const char *iss, const char *expect, const char *tid)
{
	static const char tmpl[] = "{tenantid}";
	const char *at = strstr(expect, tmpl);
	size_t pre, post;

	if (iss == NULL)
		return 0;
	if (at == NULL)
		return strcmp(iss, expect) == 0;
	if (tid == NULL || !tid_plain(tid))
		return 0;
	pre = (size_t)(at - expect);
	post = strlen(at + sizeof(tmpl) - 1);
	return strlen(iss) == pre + strlen(tid) + post && strncmp(iss, expect, pre) == 0 &&
	    strncmp(iss + pre, tid, strlen(tid)) == 0 &&
	    strcmp(iss + pre + strlen(tid), at + sizeof(tmpl) - 1) == 0;
}

enum jwt_claims_status jwt_check_claims(struct json_object *claims,
    const struct jwt_expect *e, char *err, size_t errlen)
{
	const char *tid, *azp, *nonce, *sub;
	struct json_object *aud, *v;
	size_t auds = 0, i;
	long long exp, nbf, iat;
	int found = 0, r;

	if (claims == NULL || !json_object_is_type(claims, json_type_object)) {
		snprintf(err, errlen, "The token's claims are not a JSON object.");
		return JWT_BAD_ISS;
	}
	tid = member_str(claims, "tid");
	if (!issuer_ok(member_str(claims, "iss"), e->issuer, tid)) {
		snprintf(err, errlen, "The token was issued by another issuer than %s.", e->issuer);
		return JWT_BAD_ISS;
	}
	if (json_object_object_get_ex(claims, "aud", &aud)) {
		if (json_object_is_type(aud, json_type_string)) {
			auds = 1;
			found = json_str(aud) != NULL && strcmp(json_str(aud), e->client_id) == 0;
		} else if (json_object_is_type(aud, json_type_array)) {
			auds = json_object_array_length(aud);
			for (i = 0; i < auds; i++) {
				const char *a = json_str(json_object_array_get_idx(aud, i));
				if (a != NULL && strcmp(a, e->client_id) == 0)
					found = 1;
			}
		}
	}
	if (!found) {
		snprintf(err, errlen, "The token is meant for another client (aud).");
		return JWT_BAD_AUD;
	}
	azp = member_str(claims, "azp");
	if ((json_object_object_get_ex(claims, "azp", &v) || auds > 1) &&
	    (azp == NULL || strcmp(azp, e->client_id) != 0)) {
		snprintf(err, errlen, "The token's authorized party (azp) is not this client.");
		return JWT_BAD_AZP;
	}
	if (claim_time(claims, "exp", &exp) != 1 || exp <= e->now - e->skew) {
		snprintf(err, errlen, "The token has expired or has no valid expiry (exp).");
		return JWT_EXPIRED;
	}
	r = claim_time(claims, "nbf", &nbf);
	if (r < 0 || (r == 1 && nbf > e->now + e->skew)) {
		snprintf(err, errlen, "The token is not valid yet (nbf).");
		return JWT_NOT_YET;
	}
	if (claim_time(claims, "iat", &iat) != 1 || iat > e->now + e->skew) {
		snprintf(err, errlen, "The token's issue time (iat) is missing or in the future.");
		return JWT_BAD_IAT;
	}
	nonce = member_str(claims, "nonce");
	if (e->nonce == NULL || nonce == NULL || !secure_equal(nonce, e->nonce)) {
		snprintf(err, errlen, "The token's nonce is not the one this sign-in sent.");
		return JWT_BAD_NONCE;
	}
	if (e->tenants != NULL) {
		found = 0;
		for (i = 0; tid != NULL && e->tenants[i] != NULL; i++)
			if (strcmp(e->tenants[i], tid) == 0)
				found = 1;
		if (!found) {
			snprintf(err, errlen, "The token's tenant (tid) is not an allowed tenant.");
			return JWT_BAD_TENANT;
		}
	}
	sub = member_str(claims, "sub");
	if (sub == NULL || sub[0] == '\0' || strlen(sub) > SUB_MAX) {
		snprintf(err, errlen, "The token has no subject (sub) of 1 to %d characters.", SUB_MAX);
		return JWT_NO_SUB;
	}
	return JWT_CLAIMS_OK;
}

const char *jwt_status_str(enum jwt_status s)
{
	switch (s) {
	case JWT_OK: return "ok";
	case JWT_MALFORMED: return "malformed token";
	case JWT_ALG_REFUSED: return "algorithm refused";
	case JWT_UNKNOWN_KID: return "unknown key";
	case JWT_BAD_SIGNATURE: return "bad signature";
	}
	return "unknown status";
}

const char *jwt_claims_str(enum jwt_claims_status s)
{
	switch (s) {
	case JWT_CLAIMS_OK: return "ok";
	case JWT_BAD_ISS: return "wrong issuer";
	case JWT_BAD_AUD: return "wrong audience";
	case JWT_BAD_AZP: return "wrong authorized party";
	case JWT_EXPIRED: return "expired";
	case JWT_NOT_YET: return "not valid yet";
	case JWT_BAD_IAT: return "bad issue time";
	case JWT_BAD_NONCE: return "wrong nonce";
	case JWT_BAD_TENANT: return "tenant not allowed";
	case JWT_NO_SUB: return "no subject";
	}
	return "unknown status";
}

int pkce_challenge_s256(const char *verifier, char *out, size_t outlen)
{
	unsigned char h[32];
	unsigned int hlen = sizeof(h);

	if (verifier == NULL || outlen < 44 ||
	    EVP_Digest(verifier, strlen(verifier), h, &hlen, EVP_sha256(), NULL) != 1)
		return -1;
	base64url_encode(h, sizeof(h), out);
	return 0;
}
