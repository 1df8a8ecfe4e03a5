export default {
  async fetch() {
    return new Response("wavs-edge");
  },
} satisfies ExportedHandler<Env>;

export class TaskAggregator {}
