/** The user-data input the EC2 user-data tests start from. */
import { DEFAULT_USER_DATA_PATHS, UserDataInput, dataDiskCandidates } from "../../scripts/render/user-data";

export const base: UserDataInput = {
  stack: "dev",
  hostName: "web1",
  diskCandidates: dataDiskCandidates("vol-0123456789abcdef0", "/dev/sdf"),
  diskWaitSeconds: 600,
  dockerUsers: ["admin"],
  paths: DEFAULT_USER_DATA_PATHS,
};
