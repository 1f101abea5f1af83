package io.sketchrt.runtime;

import io.sketchrt.runtime.spi.DecoderSession;
import io.sketchrt.runtime.spi.SlotKvCache;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;

/**
 * Continuous batching (DESIGN section 8): requests queue up, and between steps the {@link
 * Scheduler} admits them into free slots of one KV cache. Every row keeps its own length in its own
 * slot, so rows join and leave at any step. A step prefills at most the scheduler's token budget of
 * prompt tokens, in chunks, then runs one decode pass over every decoding row, so rows already
 * decoding keep getting a token per step while a long prompt is prefilled.
 *
 * <p>A beam search ({@link GenerationConfig#numBeams()} N > 1) is one request in N slots, admitted
 * only when N are free. Its prompt is prefilled once, into its first slot; every decode pass runs
 * its beams as N rows beside the other requests, {@link BeamSearch} scores them, and a beam that
 * continues another beam's past gets a copy of it ({@link SlotKvCache#copyRow}), the first time
 * included (the prompt). Its tokens all arrive in the step its search ends.
 *
 * <p>Needs a backend whose cache keeps rows apart (in-place graphs on ort-cpu). Not thread-safe:
 * one thread calls {@link #step()}; {@link #submit} and {@link Handle#cancel()} may come from any
 * thread.
 */
public final class Engine implements AutoCloseable {
  private final Model model;
  private final DecoderSession session;
  private final Scheduler scheduler;
  private final SlotKvCache cache;
  private final Row[] rows; // by slot: a beam search's Row in each of its slots

  /** By slot: the token it feeds at the next decode pass (sampled or a beam's), -1: none. */
  private final long[] nextIds;

  private final int vocab;
  private final int maxPositions;
  private final ArrayDeque<Handle> queue = new ArrayDeque<>();
  private final float[] oneRow;
  private int[] rowSlots;
  private boolean closed;
  private volatile StepListener stepListener;
  private int prefillBudgetLeft; // of the step running now

  /** A submitted request: its result once done, and cancellation. */
  public static final class Handle {
    final Request request;

    /** A tuned-set slot the submitter acquired for this request (it goes with the row), or not. */
    int heldSlot = NOT_HELD;

    /** The {@link Token#row()} of this request's tokens; -1: its first slot. */
    int tokenRow = -1;

    static final int NOT_HELD = -2;
    final CompletableFuture<GenerationResult> result = new CompletableFuture<>();
    volatile boolean cancelled;

    Handle(Request request) {
      this.request = request;
    }

    /** Frees the request's slot at the next step; its tokens so far end with CANCELLED. */
    public void cancel() {
      cancelled = true;
    }

    public CompletableFuture<GenerationResult> result() {
      return result;
    }
  }

  /** A request in its slots: one, or a beam search's N. */
  private static final class Row {
    final Handle handle;
    final int[] slots; // ascending; fixed while it runs
    final int slot; // the first of them: where the prompt is prefilled
    final int tunedSlot;
    final Sequence sequence;
    final BeamSearch beams; // null: sampled

    /** The slot whose cache holds beam j's past (all the first slot's until the first step). */
    int[] beamSlots;

    int prefilled;
    long prefillNanos;
    long decodeNanos;
    int decodeSteps;

    Row(Handle h, int[] slots, int tunedSlot, Model model, int vocab, int contextLimit) {
      this.handle = h;
      this.slots = slots;
      this.slot = slots[0];
      this.tunedSlot = tunedSlot;
      GenerationConfig c = h.request.config();
      long seed = c.seed().orElseGet(() -> new SplittableRandom().nextLong());
      List<Integer> eos = eos(model, c);
      this.sequence =
          new Sequence(
              h.request.prompt(),
              c,
              new Sampler(c, seed),
              model.hasTokenizer() ? model.tokenizer() : null,
              eos,
              contextLimit,
              vocab,
              !c.isBeamSearch());
      long[] p = h.request.prompt();
      this.beams =
          c.isBeamSearch()
              ? new BeamSearch(
                  c,
                  p,
                  eos.stream().mapToLong(Integer::longValue).toArray(),
                  vocab,
                  Math.min(c.maxNewTokens(), contextLimit - p.length))
              : null;
      this.beamSlots = new int[slots.length];
      Arrays.fill(beamSlots, slot);
    }

    long[] prompt() {
      return handle.request.prompt();
    }

    int tokenRow() {
      return handle.tokenRow >= 0 ? handle.tokenRow : slot;
    }
  }

  private static List<Integer> eos(Model model, GenerationConfig c) {
    return c.eosTokenIds() != null ? c.eosTokenIds() : model.eosTokenIds();
  }

  Engine(Model model, DecoderSession session, Scheduler scheduler) throws SketchrtException {
    this.model = model;
    this.session = session;
    this.scheduler = scheduler;
    this.vocab = session.vocabSize();
    this.maxPositions = model.card().maxPositionEmbeddings();
    this.cache = session.newSlotCache(scheduler.maxRows(), maxPositions);
    this.rows = new Row[scheduler.maxRows()];
    this.nextIds = new long[scheduler.maxRows()];
    Arrays.fill(nextIds, -1);
    this.oneRow = new float[vocab];
  }

  private void releaseHeld(Handle h) {
    if (h.heldSlot >= 0) {
      model.releaseSlots(new int[] {h.heldSlot});
    }
  }

  /** Queues a request; it joins the batch at a coming step. */
  public Handle submit(Request request) {
    return submit(request, Handle.NOT_HELD);
  }

  /**
   * Queues a request whose tuned-set slot the caller already holds ({@code heldSlot}, -1: none,
   * {@link Handle#NOT_HELD}: the engine acquires it): the row releases it when it ends. For a
   * {@link Generator}, whose sets are fixed when it is made.
   */
  Handle submit(Request request, int heldSlot) {
    return submit(request, heldSlot, -1);
  }

  /** The same, its tokens labelled {@code tokenRow} (a Generator's prompt index; -1: the slot). */
  Handle submit(Request request, int heldSlot, int tokenRow) {
    GenerationConfig c = request.config();
    if (c.numBeams() > scheduler.maxRows()) {
      throw new IllegalArgumentException(
          "a beam search of "
              + c.numBeams()
              + " beams needs as many slots, the engine has "
              + scheduler.maxRows());
    }
    if (c.isBeamSearch()) {
      BeamSearch.checkCandidates(c.numBeams(), eos(model, c).size(), vocab);
    }
    long[] p = request.prompt();
    if (p.length == 0) {
      throw new IllegalArgumentException("a prompt has no tokens");
    }
    int limit = contextLimit(c);
    if (p.length >= limit) {
      throw new IllegalArgumentException(
          "the prompt is " + p.length + " tokens, the context limit is " + limit + " tokens");
    }
    for (long id : p) {
      if (id < 0 || id >= vocab) {
        throw new IllegalArgumentException(
            "token id " + id + " is outside the vocabulary [0, " + vocab + ")");
      }
    }
    Handle h = new Handle(request);
    h.heldSlot = heldSlot;
    h.tokenRow = tokenRow;
    synchronized (queue) {
      if (closed) {
        throw new IllegalStateException("the engine is closed");
      }
      queue.add(h);
    }
    return h;
  }

  private int contextLimit(GenerationConfig c) {
    return c.contextLimit() == 0 ? maxPositions : Math.min(c.contextLimit(), maxPositions);
  }

  /** Rows (slots) running now, prefilling or decoding: a beam search counts its N. */
  public int activeRows() {
    int n = 0;
    for (Row r : rows) {
      n += r == null ? 0 : 1;
    }
    return n;
  }

  /** Requests queued, not yet admitted into the batch. */
  public int queued() {
    synchronized (queue) {
      return queue.size();
    }
  }

  /** The tuned set of every running request (null entries: the model's default), by first slot. */
  public List<String> runningTunedSets() {
    List<String> sets = new ArrayList<>();
    for (Row r : running()) {
      sets.add(setName(r.handle));
    }
    return sets;
  }

  /** The tuned set of every queued request, in queue order. */
  public List<String> queuedTunedSets() {
    List<String> sets = new ArrayList<>();
    synchronized (queue) {
      for (Handle h : queue) {
        sets.add(setName(h));
      }
    }
    return sets;
  }

  private String setName(Handle h) {
    return h.request.tunedSet() != null ? h.request.tunedSet() : model.defaultTunedSet();
  }

  /**
   * Called after every step with the rows its decode pass ran and the prompt tokens it prefilled
   * (for metrics: rows per decode step); on the stepping thread.
   */
  public void setStepListener(StepListener listener) {
    this.stepListener = listener;
  }

  /** See {@link #setStepListener}. */
  @FunctionalInterface
  public interface StepListener {
    void onStep(int decodeRows, int prefillTokens, long nanos);
  }

  /**
   * Ends every running request exceptionally with {@code error} and frees its slot; what is queued
   * stays. For a driver whose step failed (see {@link EngineLoop}).
   */
  public void failRunning(Throwable error) {
    for (Row r : running()) {
      r.sequence.cancel();
      vacate(r);
      r.handle.result.completeExceptionally(error);
    }
  }

  /** Every running request once, by its first slot. */
  private List<Row> running() {
    List<Row> out = new ArrayList<>();
    for (int s = 0; s < rows.length; s++) {
      if (rows[s] != null && rows[s].slot == s) {
        out.add(rows[s]);
      }
    }
    return out;
  }

  /** True when nothing is queued or running. */
  public boolean isIdle() {
    synchronized (queue) {
      return queue.isEmpty() && activeRows() == 0;
    }
  }

  /** Bytes of KV cache allocated now (slots grow with use). */
  public long kvBytesAllocated() {
    return cache.allocatedBytes();
  }

  /** Steps until nothing is queued or running. */
  public void runUntilIdle() throws SketchrtException {
    while (!isIdle()) {
      step();
    }
  }

  /**
   * One step: drops cancelled rows, admits queued requests, prefills up to the token budget, and
   * gives every decoding row one token.
   */
  public void step() throws SketchrtException {
    long start = System.nanoTime();
    try (Model.Pass ignored = model.beginPass()) {
      for (Row r : running()) {
        if (r.handle.cancelled) {
          cancel(r);
        }
      }
      admit();
      List<Row> joined = prefill();
      int prefilled = scheduler.prefillTokensPerStep() - prefillBudgetLeft;
      int decoded = decode(joined);
      StepListener l = stepListener;
      if (l != null && (decoded > 0 || prefilled > 0)) {
        l.onStep(decoded, prefilled, System.nanoTime() - start);
      }
    }
  }

  private void admit() throws SketchrtException {
    while (true) {
      Handle h;
      synchronized (queue) {
        h = queue.peek();
        // all or nothing: a beam search waits, first in line, until its N slots are free
        if (h == null
            || !h.cancelled && !scheduler.admits(activeRows(), h.request.config().numBeams())) {
          return;
        }
        queue.poll();
      }
      if (h.cancelled) {
        releaseHeld(h);
        h.result.complete(result(null, h));
        continue;
      }
      int[] slots = new int[h.request.config().numBeams()];
      for (int i = 0, s = 0; i < slots.length; s++) {
        if (rows[s] == null) {
          slots[i++] = s;
        }
      }
      int tunedSlot = h.heldSlot;
      if (tunedSlot == Handle.NOT_HELD) {
        try {
          int[] tuned = model.acquireSlots(java.util.Collections.singletonList(setName(h)));
          tunedSlot = tuned == null ? -1 : tuned[0];
        } catch (SketchrtException e) {
          h.result.completeExceptionally(e);
          continue;
        }
      }
      Row r = new Row(h, slots, tunedSlot, model, vocab, contextLimit(h.request.config()));
      for (int s : slots) {
        cache.clearRow(s);
        rows[s] = r;
      }
      updateRowSlots();
    }
  }

  /** Rows mid-prompt get prompt chunks up to the step's token budget, shortest first. */
  private List<Row> prefill() throws SketchrtException {
    List<Row> joined = new ArrayList<>();
    int budget = scheduler.prefillTokensPerStep();
    prefillBudgetLeft = budget;
    // the shortest remaining prompt first: a short request waits for no long prompt's chunks
    List<Row> waiting = new ArrayList<>();
    for (Row r : running()) {
      if (r.prefilled < r.prompt().length) {
        waiting.add(r);
      }
    }
    waiting.sort(
        java.util.Comparator.comparingInt((Row r) -> r.prompt().length - r.prefilled)
            .thenComparingInt(r -> r.slot));
    for (Row r : waiting) {
      if (budget == 0) {
        break;
      }
      long start = System.nanoTime();
      int n = Math.min(budget, Math.min(scheduler.prefillChunk(), r.prompt().length - r.prefilled));
      long[] ids = Arrays.copyOfRange(r.prompt(), r.prefilled, r.prefilled + n);
      long[] pos = new long[n];
      for (int i = 0; i < n; i++) {
        pos[i] = r.prefilled + i;
      }
      session.forwardSlots(cache, r.slot, 1, ids, pos, n, new boolean[] {true}, oneRow);
      r.prefilled += n;
      budget -= n;
      prefillBudgetLeft = budget;
      r.prefillNanos += System.nanoTime() - start;
      if (r.prefilled == r.prompt().length) {
        if (r.beams == null) {
          accept(r, r.sequence.sample(oneRow, 0, vocab));
        } else {
          // every beam starts from the prompt's one row of logits (as N equal rows would give)
          r.beams.advance(oneRow, new int[r.slots.length]);
          afterBeamStep(r);
        }
        joined.add(r);
      }
    }
    return joined;
  }

  /** One pass over the slot range of the decoding rows; other rows in it feed a dummy token. */
  private int decode(List<Row> justJoined) throws SketchrtException {
    int lo = Integer.MAX_VALUE;
    int hi = -1;
    for (int s = 0; s < rows.length; s++) {
      if (decoding(s) && !justJoined.contains(rows[s])) {
        lo = Math.min(lo, s);
        hi = Math.max(hi, s);
      }
    }
    if (hi < 0) {
      return 0;
    }
    long start = System.nanoTime();
    int n = hi - lo + 1;
    long[] ids = new long[n];
    long[] pos = new long[n];
    boolean[] live = new boolean[n];
    int ran = 0;
    for (int i = 0; i < n; i++) {
      live[i] = decoding(lo + i) && !justJoined.contains(rows[lo + i]);
      ids[i] = live[i] ? nextIds[lo + i] : 0;
      pos[i] = cache.rowLength(lo + i); // a dummy row writes past its length: overwritten later
      ran += live[i] ? 1 : 0;
    }
    float[] logits = new float[n * vocab];
    session.forwardSlots(cache, lo, n, ids, pos, 1, live, logits);
    long elapsed = System.nanoTime() - start;
    for (int i = 0; i < n; i++) {
      Row r = rows[lo + i];
      // once per request, at its first slot (all its slots were live); a beam search that ended
      // here has left its other slots empty
      if (live[i] && r != null && r.slot == lo + i) {
        r.decodeNanos += elapsed;
        r.decodeSteps++;
        if (r.beams == null) {
          accept(r, r.sequence.sample(logits, i * vocab, vocab));
        } else {
          int[] offsets = new int[r.beamSlots.length];
          for (int j = 0; j < offsets.length; j++) {
            offsets[j] = (r.beamSlots[j] - lo) * vocab;
          }
          r.beams.advance(logits, offsets);
          afterBeamStep(r);
        }
      }
    }
    return ran;
  }

  private boolean decoding(int slot) {
    Row r = rows[slot];
    return r != null && r.sequence.running() && nextIds[slot] >= 0;
  }

  /** Records a sampled token, hands it to the listener and ends the row when it should stop. */
  private void accept(Row r, int id) {
    nextIds[r.slot] = id;
    Token t = r.sequence.accept(r.tokenRow(), id, false);
    emit(r, t);
    if (t.isLast()) {
      free(r);
    }
  }

  /** A search that is done hands over its answer and ends; else its beams follow their parents. */
  private void afterBeamStep(Row r) {
    if (r.beams.isDone()) {
      for (Token t : r.beams.handOver(r.sequence, r.tokenRow(), false)) {
        emit(r, t);
      }
      free(r);
      return;
    }
    followBeams(r);
  }

  /**
   * Beam j continues beam {@code sourceBeams[j]}'s past. The first child of each parent takes the
   * parent's slot as it is (no copy); every other child takes a slot whose past no beam continues
   * and gets a copy of its parent's positions. Copies only read slots that stay as they are, so
   * their order does not matter.
   */
  private void followBeams(Row r) {
    int[] source = r.beams.sourceBeams();
    int[] next = new int[source.length];
    Arrays.fill(next, -1);
    boolean[] kept = new boolean[rows.length]; // by slot: its past goes on in some beam
    for (int j = 0; j < source.length; j++) {
      int parent = r.beamSlots[source[j]];
      if (!kept[parent]) {
        kept[parent] = true;
        next[j] = parent;
      }
    }
    int spare = 0; // into r.slots: the next slot whose past nobody continues
    for (int j = 0; j < source.length; j++) {
      if (next[j] < 0) {
        while (kept[r.slots[spare]]) {
          spare++;
        }
        next[j] = r.slots[spare++];
        int parent = r.beamSlots[source[j]];
        cache.copyRow(parent, next[j], cache.rowLength(parent));
      }
      nextIds[next[j]] = r.beams.nextTokens()[j];
    }
    r.beamSlots = next;
  }

  /**
   * Ends a running row with {@link StopReason#CANCELLED}: a sampled one has handed over all its
   * tokens, a beam search hands over its best hypothesis so far.
   */
  private void cancel(Row r) {
    if (r.beams != null) {
      for (Token t : r.beams.handOver(r.sequence, r.tokenRow(), true)) {
        emit(r, t);
      }
    }
    r.sequence.cancel();
    free(r);
  }

  private void free(Row r) {
    vacate(r);
    r.handle.result.complete(result(r, r.handle));
  }

  /** Empties the row's slot and releases its tuned set. */
  private void vacate(Row r) {
    for (int s : r.slots) {
      rows[s] = null;
      nextIds[s] = -1;
    }
    model.releaseSlots(r.tunedSlot < 0 ? null : new int[] {r.tunedSlot});
    updateRowSlots();
  }

  /** A listener that throws cancels its own request (its slot is free next step), no other. */
  private static void emit(Row r, Token t) {
    TokenListener l = r.handle.request.listener();
    if (l != null) {
      try {
        l.onToken(t);
      } catch (RuntimeException e) {
        r.handle.cancelled = true;
      }
    }
  }

  private static GenerationResult result(Row r, Handle h) {
    if (r == null) { // cancelled before it was admitted
      return new GenerationResult(
          "", new long[0], h.request.prompt().length, StopReason.CANCELLED, 0, 0, 0);
    }
    return r.sequence.result(r.prefillNanos, r.decodeNanos, r.decodeSteps);
  }

  /** The tuned-set slot of every cache row (free rows: the first row's, any will do). */
  private void updateRowSlots() {
    boolean any = false;
    int fallback = 0;
    for (Row r : rows) {
      if (r != null && r.tunedSlot >= 0) {
        any = true;
        fallback = r.tunedSlot;
      }
    }
    if (!any) {
      rowSlots = null;
      cache.setRowSlots(null);
      return;
    }
    if (rowSlots == null) {
      rowSlots = new int[rows.length];
    }
    for (int s = 0; s < rows.length; s++) {
      rowSlots[s] = rows[s] != null && rows[s].tunedSlot >= 0 ? rows[s].tunedSlot : fallback;
    }
    cache.setRowSlots(rowSlots);
  }

  /** Cancels what is queued and running, then frees the cache. */
  @Override
  public void close() {
    synchronized (queue) {
      if (closed) {
        return;
      }
      closed = true;
      for (Handle h : queue) {
        releaseHeld(h);
        h.result.complete(result(null, h));
      }
      queue.clear();
    }
    for (Row r : running()) {
      cancel(r);
    }
    cache.close();
  }
}
