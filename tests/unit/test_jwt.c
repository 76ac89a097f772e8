/* Unit tests: ID tokens (core/jwt.c) against keys made here with libcrypto,
 * the claims rules, and the PKCE S256 challenge. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "jwt.h"
#include "session.h"

#define NOW 1700000000LL
#define SKEW 120
#define CLIENT "labeld-test"
#define ISSUER "https://id.example"

enum sig_kind { SIG_RS256, SIG_ES256, SIG_ES256_DER, SIG_HS256, SIG_EMPTY, SIG_JUNK };

/* Made once, before the tests fork: two RSA and two EC keys (the second of
 * each published nowhere), a short RSA key, and the key set document. */
static EVP_PKEY *rsa, *rsa_other, *rsa_short, *ec, *ec_other;
static char rsa_n[400], rsa_e[16], short_n[200], ec_x[48], ec_y[48];
static char jwks_json[4096];

static void b64(const unsigned char *in, size_t n, char *out, size_t outlen)
{
	ck_assert_uint_le(4 * ((n + 2) / 3) + 1, outlen);
	base64url_encode(in, n, out);
}

static void bn_b64(const EVP_PKEY *k, const char *param, size_t pad, char *out, size_t outlen)
{
	BIGNUM *bn = NULL;
	unsigned char raw[512];
	int n;

	ck_assert_int_eq(EVP_PKEY_get_bn_param(k, param, &bn), 1);
	n = pad ? BN_bn2binpad(bn, raw, (int)pad) : BN_bn2bin(bn, raw);
	ck_assert_int_gt(n, 0);
	b64(raw, (size_t)n, out, outlen);
	BN_free(bn);
}

static void keys_make(void)
{
	rsa = EVP_RSA_gen(2048);
	rsa_other = EVP_RSA_gen(2048);
	rsa_short = EVP_RSA_gen(1024);
	ec = EVP_EC_gen("P-256");
	ec_other = EVP_EC_gen("P-256");
	ck_assert(rsa && rsa_other && rsa_short && ec && ec_other);
	bn_b64(rsa, OSSL_PKEY_PARAM_RSA_N, 0, rsa_n, sizeof(rsa_n));
	bn_b64(rsa, OSSL_PKEY_PARAM_RSA_E, 0, rsa_e, sizeof(rsa_e));
	bn_b64(rsa_short, OSSL_PKEY_PARAM_RSA_N, 0, short_n, sizeof(short_n));
	bn_b64(ec, OSSL_PKEY_PARAM_EC_PUB_X, 32, ec_x, sizeof(ec_x));
	bn_b64(ec, OSSL_PKEY_PARAM_EC_PUB_Y, 32, ec_y, sizeof(ec_y));
	snprintf(jwks_json, sizeof(jwks_json),
	    "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"r1\",\"use\":\"sig\",\"alg\":\"RS256\","
	    "\"n\":\"%s\",\"e\":\"%s\"},"
	    "{\"kty\":\"EC\",\"kid\":\"e1\",\"use\":\"sig\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}]}",
	    rsa_n, rsa_e, ec_x, ec_y);
}

static void keys_free(void)
{
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(rsa_other);
	EVP_PKEY_free(rsa_short);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(ec_other);
}

static struct jwks *set_parse(const char *json)
{
	char err[256] = "";
	struct jwks *k = jwks_parse(json, strlen(json), err, sizeof(err));
	ck_assert_msg(k != NULL, "jwks_parse: %s", err);
	return k;
}

/* The HMAC-SHA256 key of the confusion attack: the RSA public key's PEM. */
static size_t rsa_pem(unsigned char *out, size_t outlen)
{
	BIO *bio = BIO_new(BIO_s_mem());
	int n;

	ck_assert_int_eq(PEM_write_bio_PUBKEY(bio, rsa), 1);
	n = BIO_read(bio, out, (int)outlen);
	ck_assert_int_gt(n, 0);
	BIO_free(bio);
	return (size_t)n;
}

/* header.payload.signature into out, signed by key as kind says. */
static void token_make(char *out, size_t outlen, const char *header, const char *payload,
    EVP_PKEY *key, enum sig_kind kind)
{
	unsigned char sig[600], der[128];
	size_t siglen = sizeof(sig), derlen = sizeof(der), len;
	char *input = malloc(outlen);
	EVP_MD_CTX *md;

	ck_assert_ptr_nonnull(input);
	b64((const unsigned char *)header, strlen(header), input, outlen);
	len = strlen(input);
	input[len++] = '.';
	b64((const unsigned char *)payload, strlen(payload), input + len, outlen - len);
	len = strlen(input);
	switch (kind) {
	case SIG_RS256:
	case SIG_ES256:
	case SIG_ES256_DER:
		md = EVP_MD_CTX_new();
		ck_assert_int_eq(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key), 1);
		ck_assert_int_eq(EVP_DigestSign(md, kind == SIG_RS256 ? sig : der,
		    kind == SIG_RS256 ? &siglen : &derlen, (unsigned char *)input, len), 1);
		EVP_MD_CTX_free(md);
		if (kind == SIG_ES256) {
			const unsigned char *p = der;
			ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
			ck_assert_ptr_nonnull(es);
			BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, 32);
			BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + 32, 32);
			ECDSA_SIG_free(es);
			siglen = 64;
		} else if (kind == SIG_ES256_DER) {
			memcpy(sig, der, derlen);
			siglen = derlen;
		}
		break;
	case SIG_HS256: {
		unsigned char pem[1024];
		size_t pemlen = rsa_pem(pem, sizeof(pem));
		ck_assert_ptr_nonnull(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, pem, pemlen,
		    (unsigned char *)input, len, sig, sizeof(sig), &siglen));
		break;
	}
	case SIG_EMPTY:
		siglen = 0;
		break;
	case SIG_JUNK:
		memset(sig, 0x5a, 64);
		siglen = 64;
		break;
	}
	ck_assert_uint_lt(len + 1 + 4 * ((siglen + 2) / 3), outlen);
	snprintf(out, outlen, "%s.", input);
	b64(sig, siglen, out + len + 1, outlen - len - 1);
	free(input);
}

static const char payload_ok[] = "{\"iss\":\"" ISSUER "\",\"sub\":\"alice\",\"aud\":\"" CLIENT "\","
    "\"exp\":1700000600,\"iat\":1700000000,\"nonce\":\"n-0S6\"}";

/* jwt_verify's status; the claims are put (and must exist on JWT_OK only). */
static enum jwt_status verify(const char *token, const struct jwks *k)
{
	struct json_object *claims = (struct json_object *)1;
	char err[256] = "";
	enum jwt_status st = jwt_verify(token, k, &claims, err, sizeof(err));

	ck_assert_msg((st == JWT_OK) == (claims != NULL), "claims and status disagree");
	ck_assert_msg(st == JWT_OK || err[0] != '\0', "no error sentence for %s", jwt_status_str(st));
	json_object_put(claims);
	return st;
}

/* The status of a token made by token_make, verified with k. */
static enum jwt_status signed_status(const struct jwks *k, const char *header, const char *payload,
    EVP_PKEY *key, enum sig_kind kind)
{
	char tok[2048];

	token_make(tok, sizeof(tok), header, payload, key, kind);
	return verify(tok, k);
}

START_TEST(valid_tokens_verify)
{
	struct jwks *k = set_parse(jwks_json);
	struct json_object *claims = NULL;
	char tok[2048], err[256];

	ck_assert_uint_eq(jwks_count(k), 2);
	token_make(tok, sizeof(tok), "{\"alg\":\"RS256\",\"kid\":\"r1\",\"typ\":\"JWT\"}", payload_ok,
	    rsa, SIG_RS256);
	ck_assert_int_eq(jwt_verify(tok, k, &claims, err, sizeof(err)), JWT_OK);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(claims, "sub")), "alice");
	json_object_put(claims);
	ck_assert_int_eq(signed_status(k, "{\"alg\":\"ES256\",\"kid\":\"e1\"}",
	    payload_ok, ec, SIG_ES256), JWT_OK);
	/* no kid: every key of the type is tried */
	ck_assert_int_eq(signed_status(k, "{\"alg\":\"RS256\"}",
	    payload_ok, rsa, SIG_RS256), JWT_OK);
	ck_assert_int_eq(signed_status(k, "{\"alg\":\"ES256\"}",
	    payload_ok, ec, SIG_ES256), JWT_OK);
	jwks_free(k);
}
END_TEST

START_TEST(bad_signatures)
{
	struct jwks *k = set_parse(jwks_json);
	char tok[2048], other[2048];
	char *dot1, *dot2, *odot1, *odot2;

	/* the payload of another token, the signature of the first */
	token_make(tok, sizeof(tok), "{\"alg\":\"RS256\",\"kid\":\"r1\"}", payload_ok, rsa, SIG_RS256);
	token_make(other, sizeof(other), "{\"alg\":\"RS256\",\"kid\":\"r1\"}",
	    "{\"iss\":\"" ISSUER "\",\"sub\":\"mallory\"}", rsa, SIG_RS256);
	dot1 = strchr(tok, '.');
	dot2 = strchr(dot1 + 1, '.');
	odot1 = strchr(other, '.');
	odot2 = strchr(odot1 + 1, '.');
	strcpy(odot2, dot2);
	ck_assert_int_eq(verify(other, k), JWT_BAD_SIGNATURE);
	/* one changed character of the payload */
	dot1[3] = dot1[3] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(verify(tok, k), JWT_BAD_SIGNATURE);
	/* another key with the published kid */
	ck_assert_int_eq(signed_status(k, "{\"alg\":\"RS256\",\"kid\":\"r1\"}",
	    payload_ok, rsa_other, SIG_RS256), JWT_BAD_SIGNATURE);
	ck_assert_int_eq(signed_status(k, "{\"alg\":\"ES256\",\"kid\":\"e1\"}",
	    payload_ok, ec_other, SIG_ES256), JWT_BAD_SIGNATURE);
	ck_assert_int_eq(signed_status(k, "{\"alg\":\"RS256\"}",
	    payload_ok, rsa_other, SIG_RS256), JWT_BAD_SIGNATURE);
	/* ES256 as DER (what libcrypto makes) instead of r || s */
	ck_assert_int_eq(signed_status(k, "{\"alg\":\"ES256\",\"kid\":\"e1\"}",
	    payload_ok, ec, SIG_ES256_DER), JWT_BAD_SIGNATURE);
	/* 64 bytes that are no signature, and none at all */
	ck_assert_int_eq(signed_status(k, "{\"alg\":\"ES256\",\"kid\":\"e1\"}",
	    payload_ok, NULL, SIG_JUNK), JWT_BAD_SIGNATURE);
	ck_assert_int_eq(signed_status(k, "{\"alg\":\"RS256\",\"kid\":\"r1\"}",
	    payload_ok, NULL, SIG_EMPTY), JWT_BAD_SIGNATURE);
	jwks_free(k);
}
END_TEST

START_TEST(unknown_keys)
{
	struct jwks *k = set_parse(jwks_json);
	struct jwks *ec_only;
	char json[1024];

	ck_assert_int_eq(signed_status(k, "{\"alg\":\"RS256\",\"kid\":\"r2\"}",
	    payload_ok, rsa, SIG_RS256), JWT_UNKNOWN_KID);
	/* the kid of an EC key on an RS256 token: the type does not fit */
	ck_assert_int_eq(signed_status(k, "{\"alg\":\"RS256\",\"kid\":\"e1\"}",
	    payload_ok, rsa, SIG_RS256), JWT_UNKNOWN_KID);
	ck_assert_int_eq(signed_status(k, "{\"alg\":\"ES256\",\"kid\":\"r1\"}",
	    payload_ok, ec, SIG_ES256), JWT_UNKNOWN_KID);
	/* the kid is compared whole */
	ck_assert_int_eq(signed_status(k, "{\"alg\":\"RS256\",\"kid\":\"r\"}",
	    payload_ok, rsa, SIG_RS256), JWT_UNKNOWN_KID);
	/* RS256, with or without kid, against a set of EC keys only */
	snprintf(json, sizeof(json), "{\"keys\":[{\"kty\":\"EC\",\"kid\":\"r1\",\"crv\":\"P-256\","
	    "\"x\":\"%s\",\"y\":\"%s\"}]}", ec_x, ec_y);
	ec_only = set_parse(json);
	ck_assert_int_eq(signed_status(ec_only, "{\"alg\":\"RS256\",\"kid\":\"r1\"}",
	    payload_ok, rsa, SIG_RS256), JWT_UNKNOWN_KID);
	ck_assert_int_eq(signed_status(ec_only, "{\"alg\":\"RS256\"}",
	    payload_ok, rsa, SIG_RS256), JWT_UNKNOWN_KID);
	ck_assert_int_eq(signed_status(NULL, "{\"alg\":\"RS256\"}", payload_ok, rsa, SIG_RS256),
	    JWT_UNKNOWN_KID);
	jwks_free(ec_only);
	jwks_free(k);
}
END_TEST

START_TEST(algorithms_refused)
{
	struct jwks *k = set_parse(jwks_json);

	ck_assert_int_eq(signed_status(k, "{\"alg\":\"none\"}",
	    payload_ok, NULL, SIG_EMPTY), JWT_ALG_REFUSED);
	ck_assert_int_eq(signed_status(k, "{\"alg\":\"none\",\"kid\":\"r1\"}",
	    payload_ok, NULL, SIG_JUNK), JWT_ALG_REFUSED);
	ck_assert_int_eq(signed_status(k, "{\"alg\":\"None\"}",
	    payload_ok, NULL, SIG_EMPTY), JWT_ALG_REFUSED);
	/* the classic confusion: HMAC keyed with the RSA public key */
	ck_assert_int_eq(signed_status(k, "{\"alg\":\"HS256\",\"kid\":\"r1\"}",
	    payload_ok, NULL, SIG_HS256), JWT_ALG_REFUSED);
	ck_assert_int_eq(signed_status(k, "{\"alg\":\"HS256\"}",
	    payload_ok, NULL, SIG_HS256), JWT_ALG_REFUSED);
	ck_assert_int_eq(signed_status(k, "{\"alg\":\"RS384\",\"kid\":\"r1\"}",
	    payload_ok, rsa, SIG_RS256), JWT_ALG_REFUSED);
	ck_assert_int_eq(signed_status(k, "{\"alg\":\"PS256\",\"kid\":\"r1\"}",
	    payload_ok, rsa, SIG_RS256), JWT_ALG_REFUSED);
	ck_assert_int_eq(signed_status(k, "{\"kid\":\"r1\"}",
	    payload_ok, rsa, SIG_RS256), JWT_ALG_REFUSED);
	ck_assert_int_eq(signed_status(k, "{\"alg\":[\"RS256\"],\"kid\":\"r1\"}",
	    payload_ok, rsa, SIG_RS256), JWT_ALG_REFUSED);
	/* refused before the key set is looked at */
	ck_assert_int_eq(signed_status(NULL, "{\"alg\":\"none\"}",
	    payload_ok, NULL, SIG_EMPTY), JWT_ALG_REFUSED);
	jwks_free(k);
}
END_TEST

/* A good RS256 token of about len characters (a "pad" claim makes it
 * long), malloc'd into *out. */
static const char *padded_token(size_t len, char **out)
{
	size_t n = (len - 400) * 3 / 4;
	char *payload = malloc(n + 64);

	ck_assert_ptr_nonnull(payload);
	memset(payload, 'p', n + 64);
	memcpy(payload, "{\"sub\":\"alice\",\"pad\":\"", 22);
	strcpy(payload + n, "\"}");
	*out = malloc(len + 1000);
	ck_assert_ptr_nonnull(*out);
	token_make(*out, len + 1000, "{\"alg\":\"RS256\",\"kid\":\"r1\"}", payload, rsa, SIG_RS256);
	free(payload);
	ck_assert_uint_lt(strlen(*out), len + 100);
	ck_assert_uint_gt(strlen(*out), len - 100);
	return *out;
}

START_TEST(malformed_tokens)
{
	struct jwks *k = set_parse(jwks_json);
	char tok[2048], bad[2100];
	char *huge, *dot2;

	token_make(tok, sizeof(tok), "{\"alg\":\"RS256\",\"kid\":\"r1\"}", payload_ok, rsa, SIG_RS256);
	ck_assert_int_eq(verify(tok, k), JWT_OK);
	dot2 = strrchr(tok, '.');
	/* two parts, four parts, empty parts */
	snprintf(bad, sizeof(bad), "%.*s", (int)(dot2 - tok), tok);
	ck_assert_int_eq(verify(bad, k), JWT_MALFORMED);
	snprintf(bad, sizeof(bad), "%s.", tok);
	ck_assert_int_eq(verify(bad, k), JWT_MALFORMED);
	snprintf(bad, sizeof(bad), "%s.AAAA", tok);
	ck_assert_int_eq(verify(bad, k), JWT_MALFORMED);
	ck_assert_int_eq(verify("..", k), JWT_MALFORMED);
	ck_assert_int_eq(verify("", k), JWT_MALFORMED);
	ck_assert_int_eq(verify(NULL, k), JWT_MALFORMED);
	snprintf(bad, sizeof(bad), "%s", tok);
	memmove(strchr(bad, '.') + 1, dot2 - tok + bad, strlen(dot2) + 1);
	ck_assert_int_eq(verify(bad, k), JWT_MALFORMED);        /* header..signature */
	/* characters outside base64url, in each part */
	snprintf(bad, sizeof(bad), "%s", tok);
	bad[2] = '+';
	ck_assert_int_eq(verify(bad, k), JWT_MALFORMED);
	snprintf(bad, sizeof(bad), "%s", tok);
	strchr(bad, '.')[2] = '/';
	ck_assert_int_eq(verify(bad, k), JWT_MALFORMED);
	snprintf(bad, sizeof(bad), "%s", tok);
	strrchr(bad, '.')[2] = ' ';
	ck_assert_int_eq(verify(bad, k), JWT_MALFORMED);
	/* padding: a 256-byte signature is 342 characters plus "==" */
	snprintf(bad, sizeof(bad), "%s==", tok);
	ck_assert_int_eq(verify(bad, k), JWT_MALFORMED);
	/* a last character with stray bits ("f" is "Zg", not "Zh") */
	token_make(bad, sizeof(bad), "{\"alg\":\"RS256\",\"kid\":\"r1\"}", "f", rsa, SIG_RS256);
	ck_assert_ptr_nonnull(strstr(bad, ".Zg."));
	strstr(bad, ".Zg.")[2] = 'h';
	ck_assert_int_eq(verify(bad, k), JWT_MALFORMED);
	/* headers that are not a JSON object, or with trailing bytes */
	token_make(bad, sizeof(bad), "not json", payload_ok, rsa, SIG_RS256);
	ck_assert_int_eq(verify(bad, k), JWT_MALFORMED);
	token_make(bad, sizeof(bad), "[\"RS256\"]", payload_ok, rsa, SIG_RS256);
	ck_assert_int_eq(verify(bad, k), JWT_MALFORMED);
	token_make(bad, sizeof(bad), "{\"alg\":\"RS256\",\"kid\":\"r1\"} x", payload_ok, rsa, SIG_RS256);
	ck_assert_int_eq(verify(bad, k), JWT_MALFORMED);
	token_make(bad, sizeof(bad), "{\"alg\":\"RS256\",\"kid\":\"r1\"", payload_ok, rsa, SIG_RS256);
	ck_assert_int_eq(verify(bad, k), JWT_MALFORMED);
	token_make(bad, sizeof(bad), "{\"alg\":\"RS256\",\"kid\":1}", payload_ok, rsa, SIG_RS256);
	ck_assert_int_eq(verify(bad, k), JWT_MALFORMED);
	token_make(bad, sizeof(bad), "{\"alg\":\"RS256\",\"kid\":\"r1\",\"crit\":[\"exp\"]}",
	    payload_ok, rsa, SIG_RS256);
	ck_assert_int_eq(verify(bad, k), JWT_MALFORMED);
	/* a good signature over a payload that is not a JSON object */
	token_make(bad, sizeof(bad), "{\"alg\":\"RS256\",\"kid\":\"r1\"}", "[1,2]", rsa, SIG_RS256);
	ck_assert_int_eq(verify(bad, k), JWT_MALFORMED);
	/* a part of a length no byte string has (4n + 1 characters) */
	snprintf(bad, sizeof(bad), "%sAAA", tok);
	ck_assert_int_eq(verify(bad, k), JWT_MALFORMED);
	/* a token of 16 KiB is read, a longer one is refused unread */
	ck_assert_int_eq(verify(padded_token(15000, &huge), k), JWT_OK);
	free(huge);
	ck_assert_int_eq(verify(padded_token(16500, &huge), k), JWT_MALFORMED);
	free(huge);
	jwks_free(k);
}
END_TEST

START_TEST(key_set_parsing)
{
	char unusable[3072], json[4096], err[256];
	struct jwks *k;

	/* oct, a short RSA key, exponent 1, use=enc, an RSA key marked RS384, key_ops
	 * without verify, P-384, a point off the curve, not an object */
	snprintf(unusable, sizeof(unusable),
	    "{\"kty\":\"oct\",\"kid\":\"h\",\"k\":\"c2VjcmV0\"},"
	    "{\"kty\":\"RSA\",\"kid\":\"short\",\"n\":\"%s\",\"e\":\"AQAB\"},"
	    "{\"kty\":\"RSA\",\"kid\":\"e=1\",\"n\":\"%s\",\"e\":\"AQ\"},"
	    "{\"kty\":\"RSA\",\"kid\":\"enc\",\"use\":\"enc\",\"n\":\"%s\",\"e\":\"AQAB\"},"
	    "{\"kty\":\"RSA\",\"kid\":\"r384\",\"alg\":\"RS384\",\"n\":\"%s\",\"e\":\"AQAB\"},"
	    "{\"kty\":\"RSA\",\"kid\":\"ops\",\"key_ops\":[\"encrypt\"],\"n\":\"%s\",\"e\":\"AQAB\"},"
	    "{\"kty\":\"EC\",\"kid\":\"p384\",\"crv\":\"P-384\",\"x\":\"%s\",\"y\":\"%s\"},"
	    "{\"kty\":\"EC\",\"kid\":\"off\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"},"
	    "\"not a key\"",
	    short_n, rsa_n, rsa_n, rsa_n, rsa_n, ec_x, ec_y, ec_x, ec_x);
	err[0] = '\0';
	snprintf(json, sizeof(json), "{\"keys\":[%s]}", unusable);
	ck_assert_ptr_null(jwks_parse(json, strlen(json), err, sizeof(err)));
	ck_assert_msg(err[0] != '\0', "no error sentence");
	/* with one good key beside them: only that one stays */
	snprintf(json, sizeof(json), "{\"keys\":[%s,{\"kty\":\"RSA\",\"kid\":\"r1\",\"use\":\"sig\","
	    "\"key_ops\":[\"verify\"],\"n\":\"%s\",\"e\":\"AQAB\"}]}", unusable, rsa_n);
	k = set_parse(json);
	ck_assert_uint_eq(jwks_count(k), 1);
	jwks_free(k);
	/* the RS384 key is not used for an RS256 token */
	snprintf(json, sizeof(json), "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"r1\",\"alg\":\"RS384\","
	    "\"n\":\"%s\",\"e\":\"AQAB\"},{\"kty\":\"EC\",\"kid\":\"e1\",\"crv\":\"P-256\","
	    "\"x\":\"%s\",\"y\":\"%s\"}]}", rsa_n, ec_x, ec_y);
	k = set_parse(json);
	ck_assert_uint_eq(jwks_count(k), 1);
	jwks_free(k);
	/* a key without use, alg, kid: any RS256 token without kid */
	snprintf(json, sizeof(json), "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}]}", rsa_n);
	k = set_parse(json);
	ck_assert_uint_eq(jwks_count(k), 1);
	ck_assert_int_eq(signed_status(k, "{\"alg\":\"RS256\"}",
	    payload_ok, rsa, SIG_RS256), JWT_OK);
	ck_assert_int_eq(signed_status(k, "{\"alg\":\"RS256\",\"kid\":\"r1\"}",
	    payload_ok, rsa, SIG_RS256), JWT_UNKNOWN_KID);
	jwks_free(k);
	/* padded base64url in a key is refused */
	snprintf(json, sizeof(json), "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
	    "\"x\":\"%s=\",\"y\":\"%s\"}]}", ec_x, ec_y);
	ck_assert_ptr_null(jwks_parse(json, strlen(json), err, sizeof(err)));
	/* documents that are not key sets */
	ck_assert_ptr_null(jwks_parse("{\"keys\":{}}", 11, err, sizeof(err)));
	ck_assert_ptr_null(jwks_parse("[]", 2, err, sizeof(err)));
	ck_assert_ptr_null(jwks_parse("{\"keys\":[]} trailing", 20, err, sizeof(err)));
	ck_assert_ptr_null(jwks_parse("{\"keys\":[", 9, err, sizeof(err)));
	ck_assert_uint_eq(jwks_count(NULL), 0);
	jwks_free(NULL);
}
END_TEST

/* jwt_check_claims on a JSON text, with the default expectations. */
static enum jwt_claims_status claims_check(const char *json, const char *issuer,
    const char *const *tenants, const char *nonce)
{
	struct jwt_expect e = { issuer, CLIENT, nonce, NOW, SKEW, tenants };
	struct json_object *c = json_tokener_parse(json);
	char err[256] = "";
	enum jwt_claims_status st;

	ck_assert_ptr_nonnull(c);
	st = jwt_check_claims(c, &e, err, sizeof(err));
	ck_assert_msg(st == JWT_CLAIMS_OK || err[0] != '\0', "no error sentence for %s",
	    jwt_claims_str(st));
	json_object_put(c);
	return st;
}

static enum jwt_claims_status check(const char *json)
{
	return claims_check(json, ISSUER, NULL, "n-0S6");
}

#define BASE "\"sub\":\"alice\",\"nonce\":\"n-0S6\",\"iat\":1700000000"
#define GOOD "\"iss\":\"" ISSUER "\",\"aud\":\"" CLIENT "\",\"exp\":1700000600," BASE

START_TEST(claims_issuer_audience)
{
	static const char entra[] = "https://login.microsoftonline.com/{tenantid}/v2.0";

	ck_assert_int_eq(check("{" GOOD "}"), JWT_CLAIMS_OK);
	ck_assert_int_eq(check("{\"iss\":\"https://id.example/\",\"aud\":\"" CLIENT "\","
	    "\"exp\":1700000600," BASE "}"), JWT_BAD_ISS);
	ck_assert_int_eq(check("{\"aud\":\"" CLIENT "\",\"exp\":1700000600," BASE "}"), JWT_BAD_ISS);
	ck_assert_int_eq(check("{\"iss\":\"https://id.example\\u0000x\",\"aud\":\"" CLIENT "\","
	    "\"exp\":1700000600," BASE "}"), JWT_BAD_ISS);
	/* the Entra multi-tenant issuer: the tid claim fills the template */
	ck_assert_int_eq(claims_check("{\"iss\":\"https://login.microsoftonline.com/tenant-a/v2.0\","
	    "\"tid\":\"tenant-a\",\"aud\":\"" CLIENT "\",\"exp\":1700000600," BASE "}",
	    entra, NULL, "n-0S6"), JWT_CLAIMS_OK);
	ck_assert_int_eq(claims_check("{\"iss\":\"https://login.microsoftonline.com/tenant-a/v2.0\","
	    "\"tid\":\"tenant-b\",\"aud\":\"" CLIENT "\",\"exp\":1700000600," BASE "}",
	    entra, NULL, "n-0S6"), JWT_BAD_ISS);
	ck_assert_int_eq(claims_check("{\"iss\":\"https://login.microsoftonline.com/tenant-a/v2.0\","
	    "\"aud\":\"" CLIENT "\",\"exp\":1700000600," BASE "}",
	    entra, NULL, "n-0S6"), JWT_BAD_ISS);
	ck_assert_int_eq(claims_check("{\"iss\":\"https://login.microsoftonline.com/a/b/v2.0\","
	    "\"tid\":\"a/b\",\"aud\":\"" CLIENT "\",\"exp\":1700000600," BASE "}",
	    entra, NULL, "n-0S6"), JWT_BAD_ISS);
	ck_assert_int_eq(claims_check("{\"iss\":\"https://login.microsoftonline.com/{tenantid}/v2.0\","
	    "\"tid\":\"tenant-a\",\"aud\":\"" CLIENT "\",\"exp\":1700000600," BASE "}",
	    entra, NULL, "n-0S6"), JWT_BAD_ISS);
	/* aud: a string, or an array holding the client id */
	ck_assert_int_eq(check("{\"iss\":\"" ISSUER "\",\"aud\":\"other\",\"exp\":1700000600," BASE "}"),
	    JWT_BAD_AUD);
	ck_assert_int_eq(check("{\"iss\":\"" ISSUER "\",\"aud\":[\"a\",\"b\"],\"azp\":\"" CLIENT "\","
	    "\"exp\":1700000600," BASE "}"), JWT_BAD_AUD);
	ck_assert_int_eq(check("{\"iss\":\"" ISSUER "\",\"aud\":[],\"exp\":1700000600," BASE "}"),
	    JWT_BAD_AUD);
	ck_assert_int_eq(check("{\"iss\":\"" ISSUER "\",\"exp\":1700000600," BASE "}"), JWT_BAD_AUD);
	ck_assert_int_eq(check("{\"iss\":\"" ISSUER "\",\"aud\":7,\"exp\":1700000600," BASE "}"),
	    JWT_BAD_AUD);
	ck_assert_int_eq(check("{\"iss\":\"" ISSUER "\",\"aud\":[\"" CLIENT "\"],\"exp\":1700000600,"
	    BASE "}"), JWT_CLAIMS_OK);
	/* azp: must be the client when present, required with two audiences */
	ck_assert_int_eq(check("{\"iss\":\"" ISSUER "\",\"aud\":[\"" CLIENT "\",\"api\"],"
	    "\"azp\":\"" CLIENT "\",\"exp\":1700000600," BASE "}"), JWT_CLAIMS_OK);
	ck_assert_int_eq(check("{\"iss\":\"" ISSUER "\",\"aud\":[\"" CLIENT "\",\"api\"],"
	    "\"exp\":1700000600," BASE "}"), JWT_BAD_AZP);
	ck_assert_int_eq(check("{\"iss\":\"" ISSUER "\",\"aud\":\"" CLIENT "\",\"azp\":\"api\","
	    "\"exp\":1700000600," BASE "}"), JWT_BAD_AZP);
	ck_assert_int_eq(check("{\"iss\":\"" ISSUER "\",\"aud\":\"" CLIENT "\",\"azp\":null,"
	    "\"exp\":1700000600," BASE "}"), JWT_BAD_AZP);
}
END_TEST

#define HEAD "\"iss\":\"" ISSUER "\",\"aud\":\"" CLIENT "\",\"sub\":\"alice\",\"nonce\":\"n-0S6\""

START_TEST(claims_times)
{
	/* exp: now - skew < exp */
	ck_assert_int_eq(check("{" HEAD ",\"exp\":1699999900,\"iat\":1699999000}"), JWT_CLAIMS_OK);
	ck_assert_int_eq(check("{" HEAD ",\"exp\":1699999881,\"iat\":1699999000}"), JWT_CLAIMS_OK);
	ck_assert_int_eq(check("{" HEAD ",\"exp\":1699999880,\"iat\":1699999000}"), JWT_EXPIRED);
	ck_assert_int_eq(check("{" HEAD ",\"exp\":1699990000,\"iat\":1699989000}"), JWT_EXPIRED);
	ck_assert_int_eq(check("{" HEAD ",\"iat\":1699999000}"), JWT_EXPIRED);
	ck_assert_int_eq(check("{" HEAD ",\"exp\":\"1700000600\",\"iat\":1699999000}"), JWT_EXPIRED);
	ck_assert_int_eq(check("{" HEAD ",\"exp\":1700000600.5,\"iat\":1699999999.9}"), JWT_CLAIMS_OK);
	ck_assert_int_eq(check("{" HEAD ",\"exp\":1699999880.9,\"iat\":1699999000}"), JWT_EXPIRED);
	/* nbf <= now + skew */
	ck_assert_int_eq(check("{" HEAD ",\"exp\":1700000600,\"iat\":1700000000,\"nbf\":1700000120}"),
	    JWT_CLAIMS_OK);
	ck_assert_int_eq(check("{" HEAD ",\"exp\":1700000600,\"iat\":1700000000,\"nbf\":1700000121}"),
	    JWT_NOT_YET);
	ck_assert_int_eq(check("{" HEAD ",\"exp\":1700000600,\"iat\":1700000000,\"nbf\":true}"),
	    JWT_NOT_YET);
	/* iat required, not after now + skew */
	ck_assert_int_eq(check("{" HEAD ",\"exp\":1700000600,\"iat\":1700000120}"), JWT_CLAIMS_OK);
	ck_assert_int_eq(check("{" HEAD ",\"exp\":1700000600,\"iat\":1700000121}"), JWT_BAD_IAT);
	ck_assert_int_eq(check("{" HEAD ",\"exp\":1700000600}"), JWT_BAD_IAT);
	ck_assert_int_eq(check("{" HEAD ",\"exp\":1700000600,\"iat\":null}"), JWT_BAD_IAT);
}
END_TEST

#define TIMES "\"iss\":\"" ISSUER "\",\"aud\":\"" CLIENT "\",\"exp\":1700000600,\"iat\":1700000000"

START_TEST(claims_nonce_tenant_subject)
{
	static const char *const tenants[] = { "tenant-a", "tenant-c", NULL };
	static const char *const none[] = { NULL };

	/* nonce: exactly the one sent */
	ck_assert_int_eq(check("{" TIMES ",\"sub\":\"alice\",\"nonce\":\"n-0S7\"}"), JWT_BAD_NONCE);
	ck_assert_int_eq(check("{" TIMES ",\"sub\":\"alice\",\"nonce\":\"n-0S\"}"), JWT_BAD_NONCE);
	ck_assert_int_eq(check("{" TIMES ",\"sub\":\"alice\",\"nonce\":\"n-0S66\"}"), JWT_BAD_NONCE);
	ck_assert_int_eq(check("{" TIMES ",\"sub\":\"alice\"}"), JWT_BAD_NONCE);
	ck_assert_int_eq(claims_check("{" TIMES ",\"sub\":\"alice\",\"nonce\":\"n-0S6\"}",
	    ISSUER, NULL, NULL), JWT_BAD_NONCE);
	/* tenants: tid in the list */
	ck_assert_int_eq(claims_check("{" GOOD ",\"tid\":\"tenant-c\"}", ISSUER, tenants,
	    "n-0S6"), JWT_CLAIMS_OK);
	ck_assert_int_eq(claims_check("{" GOOD ",\"tid\":\"tenant-b\"}", ISSUER, tenants,
	    "n-0S6"), JWT_BAD_TENANT);
	ck_assert_int_eq(claims_check("{" GOOD ",\"tid\":\"TENANT-A\"}", ISSUER, tenants,
	    "n-0S6"), JWT_BAD_TENANT);
	ck_assert_int_eq(claims_check("{" GOOD "}", ISSUER, tenants, "n-0S6"),
	    JWT_BAD_TENANT);
	ck_assert_int_eq(claims_check("{" GOOD ",\"tid\":\"tenant-a\"}", ISSUER, none,
	    "n-0S6"), JWT_BAD_TENANT);
	/* sub: a string of 1 to 255 characters */
	ck_assert_int_eq(check("{" TIMES ",\"nonce\":\"n-0S6\"}"), JWT_NO_SUB);
	ck_assert_int_eq(check("{" TIMES ",\"nonce\":\"n-0S6\",\"sub\":\"\"}"), JWT_NO_SUB);
	ck_assert_int_eq(check("{" TIMES ",\"nonce\":\"n-0S6\",\"sub\":42}"), JWT_NO_SUB);
	{
		char json[1024], sub[257];
		memset(sub, 's', 256);
		sub[256] = '\0';
		snprintf(json, sizeof(json), "{" TIMES ",\"nonce\":\"n-0S6\",\"sub\":\"%s\"}", sub);
		ck_assert_int_eq(check(json), JWT_NO_SUB);
		sub[255] = '\0';
		snprintf(json, sizeof(json), "{" TIMES ",\"nonce\":\"n-0S6\",\"sub\":\"%s\"}", sub);
		ck_assert_int_eq(check(json), JWT_CLAIMS_OK);
	}
}
END_TEST

START_TEST(pkce_and_names)
{
	char out[64];

	/* RFC 7636, appendix B */
	ck_assert_int_eq(pkce_challenge_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
	    out, sizeof(out)), 0);
	ck_assert_str_eq(out, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
	ck_assert_int_eq(pkce_challenge_s256("x", out, 43), -1);
	ck_assert_int_eq(pkce_challenge_s256("x", out, 44), 0);
	ck_assert_uint_eq(strlen(out), 43);
	ck_assert_str_eq(jwt_status_str(JWT_BAD_SIGNATURE), "bad signature");
	ck_assert_str_eq(jwt_status_str(JWT_ALG_REFUSED), "algorithm refused");
	ck_assert_str_eq(jwt_claims_str(JWT_EXPIRED), "expired");
	ck_assert_str_eq(jwt_claims_str(JWT_BAD_TENANT), "tenant not allowed");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("jwt");
	TCase *t = tcase_create("jwt");
	tcase_set_timeout(t, 60);
	tcase_add_unchecked_fixture(t, keys_make, keys_free);
	tcase_add_test(t, valid_tokens_verify);
	tcase_add_test(t, bad_signatures);
	tcase_add_test(t, unknown_keys);
	tcase_add_test(t, algorithms_refused);
	tcase_add_test(t, malformed_tokens);
	tcase_add_test(t, key_set_parsing);
	tcase_add_test(t, claims_issuer_audience);
	tcase_add_test(t, claims_times);
	tcase_add_test(t, claims_nonce_tenant_subject);
	tcase_add_test(t, pkce_and_names);
	suite_add_tcase(s, t);
	return s;
}

#include "unit.h"
