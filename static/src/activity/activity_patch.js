/** @odoo-module **/

import { Activity } from "@mail/core/web/activity";
import { patch } from "@web/core/utils/patch";

// An expired payout link's activity reissues it in one click, as the link's own Reissue
// button does: action_reissue decides (rights, at most one new link), marks the activity
// done and opens the new link.
patch(Activity.prototype, {
    async onClickReissuePayout() {
        await this.env.services.action.doActionButton({
            type: "object",
            name: "action_reissue",
            resModel: "payout.link",
            resId: this.props.activity.res_id,
            onClose: () => this.props.reloadParentView(),
        });
        this.props.activity.remove();
    },
});
