/** jest globalTeardown: see temp-root.ts. */
import { teardown } from "./temp-root";

export default teardown;
