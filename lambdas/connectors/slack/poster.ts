// Posts loopgate's messages (the owners' digests) to a Slack channel with
// chat.postMessage: a bot token with chat:write, added to the channel.

import type { WebClient } from '@slack/web-api';
import type { ChatPoster } from '../../core/ports';
import { slackError } from './client';

export class SlackPoster implements ChatPoster {
  constructor(private readonly client: WebClient) {}

  async post(channel: string, text: string): Promise<void> {
    try {
      // No link unfurls: a digest names tickets and people, not previews.
      await this.client.chat.postMessage({ channel, text, unfurl_links: false, unfurl_media: false });
    } catch (error) {
      throw slackError(error, 'chat.postMessage');
    }
  }
}
