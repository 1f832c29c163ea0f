export {
  createCompTask, describeCompTask, listCompTasks, cancelCompTask, deleteCompTask, type CompTaskView,
} from "./comp-tasks.js";
