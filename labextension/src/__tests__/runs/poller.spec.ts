import { Poller, POLL_INTERVAL } from '../../runs/poller';

describe('Poller', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('calls its tick once per schedule, after the interval', () => {
    const tick = jest.fn();
    const poller = new Poller(tick, 500);
    poller.schedule();
    poller.schedule(); // replaces the pending call: never two at once
    expect(poller.pending).toBe(true);
    jest.advanceTimersByTime(499);
    expect(tick).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(tick).toHaveBeenCalledTimes(1);
    expect(poller.pending).toBe(false);
    jest.advanceTimersByTime(5000);
    expect(tick).toHaveBeenCalledTimes(1);
  });

  it('waits POLL_INTERVAL by default', () => {
    const tick = jest.fn();
    new Poller(tick).schedule();
    jest.advanceTimersByTime(POLL_INTERVAL - 1);
    expect(tick).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(tick).toHaveBeenCalledTimes(1);
  });

  it('stop and begin cancel the pending call', () => {
    const tick = jest.fn();
    const poller = new Poller(tick, 100);
    poller.schedule();
    poller.stop();
    poller.schedule();
    poller.begin();
    jest.advanceTimersByTime(1000);
    expect(tick).not.toHaveBeenCalled();
    expect(poller.pending).toBe(false);
  });

  it('tells a stale answer from the newest read', () => {
    const poller = new Poller(() => undefined);
    const first = poller.begin();
    expect(poller.isCurrent(first)).toBe(true);
    const second = poller.begin();
    expect(poller.isCurrent(first)).toBe(false);
    expect(poller.isCurrent(second)).toBe(true);
  });
});
