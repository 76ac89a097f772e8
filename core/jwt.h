/*
 * jwt.h: OpenID Connect ID tokens (compact JWS, RFC 7515/7519) checked with
 * OpenSSL's libcrypto: the signature against a provider's JSON Web Key Set
 * (RS256 and ES256 only; "none", HMAC and everything else are refused), then
 * the claims (issuer, audience, authorized party, times, nonce, tenant).
 * Nothing here talks to the network: core/oidc.c fetches the key set.
 * Each err, errlen pair receives a sentence on failure (err may be NULL
 * only with errlen 0).
 */
#ifndef LABELD_JWT_H
#define LABELD_JWT_H

#include <stddef.h>

struct json_object;

/* A JSON Web Key Set parsed into OpenSSL keys.  Keys of other types
 * (oct, OKP, RSA shorter than 2048 bits, EC curves but P-256), keys whose
 * "use" (when present) is not "sig", whose "key_ops" lack "verify", and whose
 * "alg" (when present) is not RS256 for RSA or ES256 for EC are left out.
 * NULL with err when the document is not a key set or holds no usable key;
 * the set is the caller's, freed with jwks_free. */
struct jwks;
struct jwks *jwks_parse(const char *json, size_t len, char *err, size_t errlen);
void jwks_free(struct jwks *k);
size_t jwks_count(const struct jwks *k);

enum jwt_status {
	JWT_OK = 0,
	JWT_MALFORMED,      /* not three base64url parts, bad JSON, ... */
	JWT_ALG_REFUSED,    /* alg none, HS*, anything but RS256 / ES256 */
	JWT_UNKNOWN_KID,    /* no key in the set with this kid (and a fitting type) */
	JWT_BAD_SIGNATURE,
};

/* Verify a compact JWS with the key set; on JWT_OK *claims is the payload
 * (a json_object the caller puts), otherwise *claims is NULL and err says
 * why.  A token without kid is tried against every key of the fitting type.
 * The alg is refused before any key is looked at; tokens longer than 16 KiB
 * and headers with "crit" are malformed; an ES256 signature must be the 64
 * bytes of r and s (a DER signature is a bad signature). */
enum jwt_status jwt_verify(const char *token, const struct jwks *keys,
    struct json_object **claims, char *err, size_t errlen);

struct jwt_expect {
	const char *issuer;     /* exact; a "{tenantid}" in it stands for the tid claim */
	const char *client_id;  /* aud must contain it; azp, when present or when aud
	                           has more than one entry, must equal it */
	const char *nonce;      /* the token's nonce must equal it; NULL refuses all */
	long long now;          /* unix seconds */
	long skew;              /* seconds of leeway for exp, nbf and iat */
	const char *const *tenants; /* NULL-terminated; NULL: any tenant */
};

enum jwt_claims_status {
	JWT_CLAIMS_OK = 0,
	JWT_BAD_ISS,
	JWT_BAD_AUD,
	JWT_BAD_AZP,
	JWT_EXPIRED,
	JWT_NOT_YET,
	JWT_BAD_IAT,
	JWT_BAD_NONCE,
	JWT_BAD_TENANT,
	JWT_NO_SUB,
};

/* Check the claims of a verified token against what the flow expects, in
 * the order of enum jwt_claims_status: the first failure is returned, with a
 * sentence in err.  exp and iat are required, nbf optional (numbers, whole or
 * not); tid, when "{tenantid}" is used, must be letters, digits, '-' or '_';
 * a tenant list refuses a token without tid; sub must be a string of 1 to
 * 255 characters. */
enum jwt_claims_status jwt_check_claims(struct json_object *claims,
    const struct jwt_expect *e, char *err, size_t errlen);

/* Short English for logs ("bad signature", "expired", ...). */
const char *jwt_status_str(enum jwt_status s);
const char *jwt_claims_str(enum jwt_claims_status s);

/* PKCE (RFC 7636) S256: base64url(SHA-256(verifier)) without padding into
 * out (at least 44 bytes).  0, or -1 when out is too small. */
int pkce_challenge_s256(const char *verifier, char *out, size_t outlen);

#endif
