import type { createRequestHandler } from "local-aws-sqs";
import type { Queue } from "local-aws-sqs/dist/lib/queue.js";

type SqsService = ReturnType<typeof createRequestHandler>["service"];

/**
 * Workarounds inside local-aws-sqs 2.0.2's queue model, for bugs no HTTP shim can reach. Its
 * queues keep their messages in private fields, so the fixes hook the two public seams the
 * model goes through: the service's list of queues and the Queue class.
 */
export interface QueueModelFixes {
  keepReceiveCount: boolean;
  oneQueuePerName: boolean;
  longPollReturnsEarly: boolean;
}

/** Services whose ChangeMessageVisibility must leave ApproximateReceiveCount alone. */
const keepsReceiveCount = new WeakSet<SqsService>();
/** Services whose long polls must answer as soon as a message is there. */
const returnsEarly = new WeakSet<SqsService>();
/** Set while such a service's queue runs ChangeMessageVisibility (synchronous code). */
let changingVisibility = false;
const patchedClasses = new WeakSet<typeof Queue>();

export function fixQueueModel(service: SqsService, fixes: QueueModelFixes): void {
  if (fixes.keepReceiveCount) keepsReceiveCount.add(service);
  if (fixes.longPollReturnsEarly) returnsEarly.add(service);
  const queues = service.Queues;
  const push = queues.push.bind(queues);
  queues.push = (...added: Queue[]) => {
    for (const queue of added) {
      // The class is not exported: reach it through the first queue, before any message exists.
      patchQueueClass(queue.constructor as typeof Queue);
      // local-aws-sqs bug (emulateLazyQueues): a CreateQueue repeated within the ~1 s before the
      // queue is usable adds a second queue of the same name, so ListQueues lists it twice and
      // after DeleteQueue the other copy comes back. AWS returns the one queue's URL.
      if (fixes.oneQueuePerName && queues.some((q) => q.QueueName === queue.QueueName)) continue;
      push(queue);
    }
    return queues.length;
  };
}

function patchQueueClass(QueueClass: typeof Queue): void {
  if (patchedClasses.has(QueueClass)) return;
  patchedClasses.add(QueueClass);
  patchChangeVisibility(QueueClass);
  patchReceive(QueueClass);
}

/**
 * local-aws-sqs bug: ChangeMessageVisibility counts as a receive. Each call adds one to
 * ApproximateReceiveCount, and the redrive policy compares that count with maxReceiveCount, so an
 * agent that extends a long task's visibility (or hands a message back with visibility 0) sees
 * inflated attempt numbers and gets its message moved to the dead-letter queue early. AWS counts
 * only ReceiveMessage. Records are created by the static Queue.createRecord: give each record's
 * count a setter that ignores writes made during ChangeMessageVisibility.
 */
function patchChangeVisibility(QueueClass: typeof Queue): void {
  const changeVisibility = QueueClass.prototype.changeVisibility;
  QueueClass.prototype.changeVisibility = function (this: Queue, handle, timeout) {
    changingVisibility = keepsReceiveCount.has(this.service);
    try {
      return changeVisibility.call(this, handle, timeout);
    } finally {
      changingVisibility = false;
    }
  };
  const createRecord = QueueClass.createRecord.bind(QueueClass);
  QueueClass.createRecord = (input: unknown) => {
    const [record, md5] = createRecord(input);
    guardReceiveCount(record.attributes as Record<string, string>);
    return [record, md5];
  };
}

function guardReceiveCount(attributes: Record<string, string>): void {
  let count = attributes.ApproximateReceiveCount;
  Object.defineProperty(attributes, "ApproximateReceiveCount", {
    enumerable: true,
    configurable: true,
    get: () => count,
    set: (value: string) => {
      if (!changingVisibility) count = value;
    },
  });
}

type ReceiveParams = Parameters<Queue["receive"]>[0];

/**
 * local-aws-sqs bug: a long poll (WaitTimeSeconds > 0) asking for more than one message answers
 * only when it has MaxNumberOfMessages of them or the wait is over, where AWS answers as soon as
 * one is there; so an agent polling for 10 waits the whole 20 s per task. Worse, a message whose
 * visibility timeout ends while such a poll holds it is taken again, and comes back several
 * times in one answer. Long-poll for one message, then take what else is there at once.
 */
function patchReceive(QueueClass: typeof Queue): void {
  const receive = QueueClass.prototype.receive;
  QueueClass.prototype.receive = async function (this: Queue, params: ReceiveParams) {
    const wanted = Number(params.MaxNumberOfMessages ?? 1);
    const wait = Number(params.WaitTimeSeconds ?? this.ReceiveMessageWaitTimeSeconds);
    if (!returnsEarly.has(this.service) || wanted <= 1 || !(wait > 0)) {
      return receive.call(this, params);
    }
    const first = await receive.call(this, { ...params, MaxNumberOfMessages: 1 });
    if (first.length === 0) return first;
    const more = await receive.call(this, {
      ...params,
      MaxNumberOfMessages: wanted - 1,
      WaitTimeSeconds: 0,
    });
    return [...first, ...more];
  };
}
