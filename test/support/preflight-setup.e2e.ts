/** globalSetup of the e2e tier: see preflight-setup.ts. */
import { preflightSetup } from "./preflight-setup";

export default preflightSetup("e2e");
