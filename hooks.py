from .controllers.claim import install_claim_token_filter


def post_load():
    """Server-wide, once the addon is imported (the manifest's post_load): mask the claim
    tokens in the request log lines of werkzeug and odoo.http."""
    install_claim_token_filter()


def post_init_hook(env):
    """Give every existing company its Demo provider, so links can be sent right away."""
    env["payout.provider"]._create_demo_providers(env["res.company"].search([]))
