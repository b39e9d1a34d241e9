/** @odoo-module **/

import { onMounted, onWillUnmount } from "@odoo/owl";
import { browser } from "@web/core/browser/browser";
import { registry } from "@web/core/registry";
import {
    ProgressBarField,
    progressBarField,
} from "@web/views/fields/progress_bar/progress_bar_field";

// A batch's lines are sent by a background job: while it runs, the form reloads the batch
// this often, so its progress and totals move without the user reloading the page.
export const REFRESH_INTERVAL_MS = 3000;

export class SendProgressField extends ProgressBarField {
    setup() {
        super.setup();
        onMounted(() => {
            this.interval = browser.setInterval(() => this.refresh(), REFRESH_INTERVAL_MS);
        });
        onWillUnmount(() => browser.clearInterval(this.interval));
    }

    async refresh() {
        // A slow server must not pile reloads up: one at a time.
        if (this.refreshing) {
            return;
        }
        this.refreshing = true;
        try {
            const { record } = this.props;
            // Never drop what the user is typing: a record with unsaved changes waits.
            if (record.data.state === "sending" && !(await record.isDirty())) {
                await record.load();
            }
        } finally {
            this.refreshing = false;
        }
    }
}

registry.category("fields").add("payout_send_progress", {
    ...progressBarField,
    component: SendProgressField,
});
