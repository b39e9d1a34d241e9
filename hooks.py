def post_init_hook(env):
    """Give every existing company its Demo provider, so links can be sent right away."""
    env["payout.provider"]._create_demo_providers(env["res.company"].search([]))
