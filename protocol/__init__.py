"""Provider protocol code: plain Python, no Odoo import."""
