/** @odoo-module **/

import { rpc } from "@web/core/network/rpc";
import { registry } from "@web/core/registry";

// A manager watches a batch being sent: the background sender runs (here started by hand,
// as "Run Manually" does) and the form shows the result without being reloaded.
// The Python test (tests/test_payout_batch_tour.py) opens the form of a batch in "Sending".
registry.category("web_tour.tours").add("payout_batch_progress_tour", {
    steps: () => [
        {
            content: "The batch is being sent, with its progress",
            trigger: ".o_statusbar_status .o_arrow_button_current:contains(Sending)",
        },
        {
            trigger: ".o_field_widget[name=send_progress] .o_progressbar",
            run() {
                document.body.dataset.payoutTourPage = "first"; // gone if the page reloads
            },
        },
        {
            content: "The background sender runs",
            trigger: ".o_field_widget[name=unsent_count]:contains(2)",
            async run() {
                const cronIds = await rpc("/web/dataset/call_kw/ir.cron/search", {
                    model: "ir.cron",
                    method: "search",
                    args: [[["ir_actions_server_id.code", "like", "model._cron_send_batches("]]],
                    kwargs: {},
                });
                await rpc("/web/dataset/call_kw/ir.cron/method_direct_trigger", {
                    model: "ir.cron",
                    method: "method_direct_trigger",
                    args: [cronIds],
                    kwargs: {},
                });
            },
        },
        {
            content: "The form shows the batch sent, without a reload",
            trigger: ".o_statusbar_status .o_arrow_button_current:contains(Sent)",
        },
        {
            trigger: ".o_field_widget[name=pending_count]:contains(2)",
        },
        {
            content: "No progress bar once sent, and still the first page",
            trigger:
                "body[data-payout-tour-page=first] .o_form_view:not(:has(.o_field_widget[name=send_progress]))",
        },
    ],
});
