"""Caller authorization: who may read or change a shopper's recommendations and privacy data.

Disabled when no issuer is configured (``AUTH_ISSUER_URL`` empty). When enabled, a request about
user X must carry a token of the shop's OIDC issuer (a Cognito user pool or any other) whose
subject is X: API Gateway's JWT authorizer checks the token of the privacy routes and hands the
claims to the function; the recommendations route (open to anonymous shoppers) checks an
optional bearer token itself, and only when ``userId`` is asked for. Both decisions are made by
`SubjectPolicy` (docs/privacy.md).
"""
