/** The growth table's pure parts: its options from the environment and the two-point fit. */
import { GROWTH_METHODS, fit, growthOptionsFromEnv } from "./growth";

describe("growthOptionsFromEnv", () => {
  it("defaults: 100 MB and 1 GB, 50k small files of 2 kB, every method, one run", () => {
    expect(growthOptionsFromEnv({})).toEqual({ sizesMb: [100, 1000], smallFiles: 50000, smallFileBytes: 2000, methods: [...GROWTH_METHODS], runs: 1 });
  });

  it("takes sizes, counts and methods from the environment, sizes sorted", () => {
    const opts = growthOptionsFromEnv({ OWB_BENCH_GROWTH_SIZES_MB: "300, 50", OWB_BENCH_SMALL_FILES: "0", OWB_BENCH_GROWTH_METHODS: "restic,snapshot", OWB_BENCH_GROWTH_RUNS: "3" });
    expect(opts).toMatchObject({ sizesMb: [50, 300], smallFiles: 0, methods: ["restic", "snapshot"], runs: 3 });
  });

  it.each([
    [{ OWB_BENCH_GROWTH_SIZES_MB: "100" }, /two different sizes/],
    [{ OWB_BENCH_GROWTH_SIZES_MB: "100,100" }, /two different sizes/],
    [{ OWB_BENCH_GROWTH_SIZES_MB: "100,big" }, /OWB_BENCH_GROWTH_SIZES_MB: expected numbers/],
    [{ OWB_BENCH_GROWTH_METHODS: "restic,tar" }, /unknown method tar/],
  ])("%j is refused", (env, why) => {
    expect(() => growthOptionsFromEnv(env)).toThrow(why);
  });
});

describe("fit", () => {
  it("is the line through the two points: seconds per GB and seconds at 0 GB", () => {
    const { slope, intercept } = fit([
      { gb: 0.1, seconds: 1.5 },
      { gb: 1.1, seconds: 11.5 },
    ]);
    expect(slope).toBeCloseTo(10);
    expect(intercept).toBeCloseTo(0.5);
  });
});
