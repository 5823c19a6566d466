// What follows a recorded step (a note on the incident, a Jira comment, the
// ticket's status, resolving the incident) must not undo the step or make the
// sender deliver it again. Each is attempted; a failure is collected for the
// log instead of thrown.

import type { Tracker } from './ports';

export class FollowUps {
  readonly problems: string[] = [];

  async attempt(what: string, work: () => Promise<unknown>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.problems.push(`${what} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Moves the ticket to the configured status, if one is configured and the workflow allows it. */
  moveTicket(tracker: Pick<Tracker, 'moveTo'>, issueKey: string, status: string | undefined): Promise<void> {
    if (!status) return Promise.resolve();
    return this.attempt(`moving ${issueKey} to ${status}`, async () => {
      if ((await tracker.moveTo(issueKey, status)) === 'no-such-transition') {
        throw new Error(`the workflow has no transition to "${status}" from where the ticket is`);
      }
    });
  }
}
