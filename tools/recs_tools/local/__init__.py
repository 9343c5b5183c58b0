"""The local stack: the deployed template.yaml, provisioned in moto, served on 127.0.0.1.

Nothing here runs in AWS; it exists so that a newcomer (and every test) can run the whole
product with no account, no credentials and no Docker, from the same template that ops deploy.
"""
